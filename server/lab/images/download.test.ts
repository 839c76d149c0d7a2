import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DownloadAbortedError, DownloadError, downloadFile, fetchSha256, parseContentRange, partPath, type DownloadProgress } from './download.ts';

const MiB = 1 << 20;
const DATA = crypto.randomBytes(3 * MiB);
const SHA = crypto.createHash('sha256').update(DATA).digest('hex');

interface Behaviour {
  /** First request only: send this many bytes, then destroy the socket. */
  cutFirstAfter?: number;
  /** First request only: send this many bytes, then stall (until the client goes away). */
  stallFirstAfter?: number;
  /** Answer every request with the whole file (no Range support). */
  ignoreRange?: boolean;
  /** Send in 64 KiB chunks with this delay between them. */
  trickleMs?: number;
}

interface TestServer { base: string; url: string; requests: { path: string; range: string | undefined }[]; stalled: Promise<void> }

const servers: http.Server[] = [];
const tmps: string[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  for (const d of tmps.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'pvdl-'));
  tmps.push(d);
  return d;
}

async function startServer(b: Behaviour = {}): Promise<TestServer> {
  const requests: TestServer['requests'] = [];
  let onStall!: () => void;
  const stalled = new Promise<void>((r) => { onStall = r; });
  const server = http.createServer((req, res) => {
    requests.push({ path: req.url ?? '', range: req.headers.range });
    const first = requests.filter((r) => r.path === '/file.img').length === 1;
    if (req.url === '/SHA256SUMS') {
      res.end(`${'0'.repeat(64)} *other.img\n${SHA} *file.img\n`);
      return;
    }
    if (req.url !== '/file.img') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    let start = 0;
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m && !b.ignoreRange) {
      start = Number(m[1]);
      if (start >= DATA.length) {
        res.writeHead(416, { 'content-range': `bytes */${DATA.length}` }).end();
        return;
      }
      res.writeHead(206, { 'content-length': DATA.length - start, 'content-range': `bytes ${start}-${DATA.length - 1}/${DATA.length}` });
    } else {
      res.writeHead(200, { 'content-length': DATA.length, 'accept-ranges': 'bytes' });
    }
    const body = DATA.subarray(start);
    if (first && b.cutFirstAfter !== undefined) {
      res.write(body.subarray(0, b.cutFirstAfter), () => res.socket?.destroy());
    } else if (first && b.stallFirstAfter !== undefined) {
      res.write(body.subarray(0, b.stallFirstAfter), () => onStall());
    } else if (b.trickleMs) {
      let off = 0;
      const next = () => {
        if (res.destroyed) return;
        if (off >= body.length) { res.end(); return; }
        res.write(body.subarray(off, off + 64 * 1024));
        off += 64 * 1024;
        setTimeout(next, b.trickleMs);
      };
      next();
    } else {
      res.end(body);
    }
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, url: `${base}/file.img`, requests, stalled };
}

function failure(p: Promise<unknown>): Promise<Error> {
  return p.then(() => { throw new Error('expected a failure'); }, (e: Error) => e);
}

describe('downloadFile', () => {
  it('downloads, verifies and renames into place, reporting monotonic progress that ends at the total', async () => {
    const srv = await startServer({ trickleMs: 15 });
    const dest = path.join(tmpDir(), 'img', 'file.img');
    const events: DownloadProgress[] = [];
    const t0 = Date.now();
    await downloadFile({ url: srv.url, dest, sha256: SHA.toUpperCase(), onProgress: (p) => events.push(p) });
    const elapsed = Date.now() - t0;
    expect(fs.readFileSync(dest).equals(DATA)).toBe(true);
    expect(fs.existsSync(partPath(dest))).toBe(false);
    expect(srv.requests).toEqual([{ path: '/file.img', range: undefined }]);

    expect(events.length).toBeGreaterThanOrEqual(2);
    expect(events.length).toBeLessThanOrEqual(Math.floor(elapsed / 250) + 1);
    for (let i = 1; i < events.length; i++) expect(events[i].bytes).toBeGreaterThanOrEqual(events[i - 1].bytes);
    for (const e of events) {
      expect(e.total).toBe(DATA.length);
      expect(e.rate).toBeGreaterThan(0);
    }
    expect(events[0].etaSeconds).toBeGreaterThan(0);
    expect(events.at(-1)).toMatchObject({ bytes: DATA.length, total: DATA.length, etaSeconds: 0 });
  });

  it('resumes a cut download with a Range request', async () => {
    const srv = await startServer({ cutFirstAfter: MiB });
    const dest = path.join(tmpDir(), 'file.img');
    const err = await failure(downloadFile({ url: srv.url, dest, sha256: SHA }));
    expect(err).toBeInstanceOf(DownloadError);
    expect(err.message).toContain(`download of ${srv.url} was interrupted after`);
    expect(err.message).toContain('run it again to resume');
    const kept = fs.statSync(partPath(dest)).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(MiB);
    expect(fs.existsSync(dest)).toBe(false);

    const events: DownloadProgress[] = [];
    await downloadFile({ url: srv.url, dest, sha256: SHA, onProgress: (p) => events.push(p) });
    expect(srv.requests.map((r) => r.range)).toEqual([undefined, `bytes=${kept}-`]);
    expect(fs.readFileSync(dest).equals(DATA)).toBe(true);
    expect(fs.existsSync(partPath(dest))).toBe(false);
    expect(events.at(-1)).toMatchObject({ bytes: DATA.length, total: DATA.length });
    expect(events.every((e) => e.bytes >= kept)).toBe(true);
  });

  it('starts over when the server answers a Range request with the whole file', async () => {
    const srv = await startServer({ ignoreRange: true });
    const dest = path.join(tmpDir(), 'file.img');
    fs.writeFileSync(partPath(dest), crypto.randomBytes(MiB)); // not even a prefix of the file
    await downloadFile({ url: srv.url, dest, sha256: SHA });
    expect(srv.requests.map((r) => r.range)).toEqual([`bytes=${MiB}-`]);
    expect(fs.readFileSync(dest).equals(DATA)).toBe(true);
  });

  it('on 416 takes a complete part after verifying it', async () => {
    const srv = await startServer();
    const dest = path.join(tmpDir(), 'file.img');
    fs.writeFileSync(partPath(dest), DATA);
    const events: DownloadProgress[] = [];
    await downloadFile({ url: srv.url, dest, sha256: SHA, onProgress: (p) => events.push(p) });
    expect(srv.requests.map((r) => r.range)).toEqual([`bytes=${DATA.length}-`]);
    expect(fs.readFileSync(dest).equals(DATA)).toBe(true);
    expect(events).toEqual([{ bytes: DATA.length, total: DATA.length, rate: 0, etaSeconds: 0 }]);
  });

  it('on 416 with a bad part (longer than the file) starts over', async () => {
    const srv = await startServer();
    const dest = path.join(tmpDir(), 'file.img');
    fs.writeFileSync(partPath(dest), Buffer.concat([DATA, Buffer.from('junk')]));
    await downloadFile({ url: srv.url, dest, sha256: SHA });
    expect(srv.requests.map((r) => r.range)).toEqual([`bytes=${DATA.length + 4}-`, undefined]);
    expect(fs.readFileSync(dest).equals(DATA)).toBe(true);
    expect(fs.existsSync(partPath(dest))).toBe(false);
  });

  it('on a checksum mismatch removes the download and says so', async () => {
    const srv = await startServer();
    const dir = tmpDir();
    const dest = path.join(dir, 'file.img');
    const wrong = 'ab'.repeat(32);
    const err = await failure(downloadFile({ url: srv.url, dest, sha256: wrong }));
    expect(err.message).toBe(`checksum mismatch for ${srv.url}: expected ${wrong}, got ${SHA} — the download was removed; try again`);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('reports an HTTP error status clearly and writes nothing', async () => {
    const srv = await startServer();
    const dir = tmpDir();
    const url = `${srv.base}/nope.img`;
    const err = await failure(downloadFile({ url, dest: path.join(dir, 'nope.img'), sha256: SHA }));
    expect(err).toBeInstanceOf(DownloadError);
    expect(err.message).toMatch(new RegExp(`^HTTP 404 for ${url.replace(/\./g, '\\.')}`));
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('reports a connection failure with the URL and a hint', async () => {
    const probe = http.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const url = `http://127.0.0.1:${port}/file.img`;
    const err = await failure(downloadFile({ url, dest: path.join(tmpDir(), 'f'), sha256: SHA }));
    expect(err.message).toMatch(new RegExp(`^cannot download ${url.replace(/\./g, '\\.')}: .*ECONNREFUSED.* — check the network connection`));
  });

  it('cancels on abort, keeps the part, and a later call resumes it', async () => {
    const srv = await startServer({ stallFirstAfter: MiB });
    const dest = path.join(tmpDir(), 'file.img');
    const ac = new AbortController();
    const running = failure(downloadFile({ url: srv.url, dest, sha256: SHA, signal: ac.signal }));
    await srv.stalled;
    await vi.waitFor(() => expect(fs.statSync(partPath(dest)).size).toBe(MiB), { timeout: 10_000, interval: 20 });
    ac.abort();
    const err = await running;
    expect(err).toBeInstanceOf(DownloadAbortedError);
    expect(err.name).toBe('AbortError');
    expect(err.message).toContain('was cancelled');
    expect(fs.statSync(partPath(dest)).size).toBe(MiB);
    expect(fs.existsSync(dest)).toBe(false);

    await downloadFile({ url: srv.url, dest, sha256: SHA });
    expect(srv.requests.map((r) => r.range)).toEqual([undefined, `bytes=${MiB}-`]);
    expect(fs.readFileSync(dest).equals(DATA)).toBe(true);
  });

  it('refuses an already-aborted signal and a malformed hash before touching the network', async () => {
    const srv = await startServer();
    const dest = path.join(tmpDir(), 'file.img');
    const ac = new AbortController();
    ac.abort();
    expect(await failure(downloadFile({ url: srv.url, dest, sha256: SHA, signal: ac.signal }))).toBeInstanceOf(DownloadAbortedError);
    expect((await failure(downloadFile({ url: srv.url, dest, sha256: 'abc' }))).message).toMatch(/not a SHA-256 hash/);
    expect(srv.requests).toEqual([]);
  });
});

describe('fetchSha256', () => {
  it('reads the hash of a file from SHA256SUMS', async () => {
    const srv = await startServer();
    expect(await fetchSha256(`${srv.base}/SHA256SUMS`, 'file.img')).toBe(SHA);
  });

  it('fails clearly when the file is not listed or the list is missing', async () => {
    const srv = await startServer();
    await expect(fetchSha256(`${srv.base}/SHA256SUMS`, 'missing.img')).rejects.toThrow(`missing.img is not listed in ${srv.base}/SHA256SUMS`);
    await expect(fetchSha256(`${srv.base}/nope`, 'file.img')).rejects.toThrow(`HTTP 404 for ${srv.base}/nope`);
  });
});

describe('parseContentRange', () => {
  it.each([
    ['bytes 10-99/100', { start: 10, end: 99, total: 100 }],
    ['bytes 0-0/*', { start: 0, end: 0, total: null }],
    ['bytes */100', null],
    [null, null],
  ])('parses %s', (v, expected) => {
    expect(parseContentRange(v)).toEqual(expected);
  });
});
