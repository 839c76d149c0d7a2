// Issue 12 cases 4 and 11: uploads publish only complete bodies; bad names are a 400 with one line.
// The "provisioner" here is the real remote script run by a local sh (what ssh would run there).
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleUpload, parseUpload, type UploadSink } from './upload.ts';
import { UPLOAD_SCRIPT, uploadArgv } from '../lab/provisioner/upload.ts';
import { BadRequestError, PayloadTooLargeError } from '../lab/errors.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pvu-'));
const MAX = 8 * 1024 * 1024;
const pids: number[] = [];
const sink: UploadSink = {
  async upload(name, body, o) {
    const [cmd, ...args] = uploadArgv(path.join(dir, name), o.size, o.sha256, 0);
    const p = execa(cmd, args, { input: body as import('node:stream').Readable, cancelSignal: o.signal });
    pids.push(p.pid!);
    await p;
  },
};
let server: http.Server;
let port = 0;
beforeAll(async () => {
  server = http.createServer((req, res) => { void handleUpload(sink, new URL(req.url!, 'http://x'), req, res, MAX); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as net.AddressInfo).port;
});
afterAll(async () => { server.closeAllConnections(); await new Promise((r) => server.close(r)); fs.rmSync(dir, { recursive: true, force: true }); });

function post(query: string, body: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; json: { ok: boolean; error?: string } }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ port, host: '127.0.0.1', method: 'POST', path: `/api/upload/artifact?${query}`, headers: { 'content-length': String(body.length), ...headers } }, (res) => {
      let t = '';
      res.on('data', (c) => { t += c; });
      res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(t) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };
const leftovers = () => fs.readdirSync(dir).filter((f) => f.startsWith('.'));

describe('(case 11) upload names', () => {
  it.each(['../x', '%00', 'a'.repeat(300), '', '.hidden', 'a b'])('%j → 400 with one line naming the field', async (name) => {
    const r = await post(`name=${encodeURIComponent(name)}`, Buffer.from('hi'));
    expect(r.status).toBe(400);
    expect(r.json.error).toMatch(/^name: use letters, digits/);
    expect(r.json.error).not.toMatch(/[[{]/);
  });
  it('parses pure: missing Content-Length, empty, bad sha256, over the cap', () => {
    const u = new URL('http://x/?name=k');
    expect(() => parseUpload(u, {}, MAX)).toThrow(BadRequestError);
    expect(() => parseUpload(u, { 'content-length': '0' }, MAX)).toThrow(/file: is empty/);
    expect(() => parseUpload(new URL('http://x/?name=k&sha256=zz'), { 'content-length': '1' }, MAX)).toThrow(/^sha256:/);
    expect(() => parseUpload(u, { 'content-length': String(1024 ** 4) }, MAX)).toThrow(PayloadTooLargeError);
  });
});

describe('(case 4) an upload is published only when complete', () => {
  it('a complete body is published with its bytes (positive control), with or without its sha256', async () => {
    const data = crypto.randomBytes(300_000);
    const sha = crypto.createHash('sha256').update(data).digest('hex');
    expect((await post('name=ok.bin', data)).status).toBe(200);
    expect((await post(`name=ok2.bin&sha256=${sha}`, data)).status).toBe(200);
    expect(fs.readFileSync(path.join(dir, 'ok2.bin')).equals(data)).toBe(true);
    expect(leftovers()).toEqual([]);
  });
  it('over the cap: 413 before any byte is stored', async () => {
    const r = await new Promise<number>((resolve) => {
      const req = http.request({ port, host: '127.0.0.1', method: 'POST', path: '/api/upload/artifact?name=big', headers: { 'content-length': String(1024 ** 4) } },
        (res) => { resolve(res.statusCode!); res.resume(); });
      req.on('error', () => {});
      req.write(Buffer.alloc(1024));
    });
    expect(r).toBe(413);
    expect(fs.existsSync(path.join(dir, 'big'))).toBe(false);
  });
  it('a wrong sha256: 400, nothing published', async () => {
    const r = await post(`name=bad.bin&sha256=${'0'.repeat(64)}`, Buffer.from('hello'));
    expect(r.status).toBe(400);
    expect(r.json.error).toMatch(/^sha256: /);
    expect(fs.existsSync(path.join(dir, 'bad.bin'))).toBe(false);
    expect(leftovers()).toEqual([]);
  });
  it('announce 6 MiB, send 2 MiB, abort: the remote writer is killed, nothing published, no temp file', async () => {
    const before = pids.length;
    await new Promise<void>((resolve) => {
      const sock = net.connect(port, '127.0.0.1', () => {
        sock.write(`POST /api/upload/artifact?name=cut.bin HTTP/1.1\r\nHost: x\r\nContent-Length: ${6 * 1024 * 1024}\r\n\r\n`);
        sock.write(crypto.randomBytes(2 * 1024 * 1024), () => setTimeout(() => { sock.destroy(); resolve(); }, 300));
      });
    });
    await expect.poll(() => pids.length).toBeGreaterThan(before);
    await expect.poll(() => alive(pids[pids.length - 1]), { timeout: 5000 }).toBe(false);
    expect(fs.existsSync(path.join(dir, 'cut.bin'))).toBe(false);
    await expect.poll(leftovers).toEqual([]);
  });
  it('the panel killed mid-way (the remote sees EOF early): the script refuses to publish', async () => {
    const r = await execa('sh', ['-c', UPLOAD_SCRIPT, 'sh', path.join(dir, 'eof.bin'), '1000', '', '0'], { input: 'only 12 byte', reject: false });
    expect(r.exitCode).toBe(4);
    expect(r.stderr).toMatch(/12 of 1000 bytes arrived/);
    expect(fs.existsSync(path.join(dir, 'eof.bin'))).toBe(false);
    expect(leftovers()).toEqual([]);
  });
  it('no room on the provisioner: refused before reading (exit 3), nothing written', async () => {
    const r = await execa('sh', ['-c', UPLOAD_SCRIPT, 'sh', path.join(dir, 'huge.bin'), String(2 ** 52), '', '0'], { input: 'x', reject: false });
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/needs \d+ bytes/);
    expect(fs.existsSync(path.join(dir, 'huge.bin'))).toBe(false);
  });
});
