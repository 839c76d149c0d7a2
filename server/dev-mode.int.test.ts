// Issue 12 case 1 in dev mode for real: `pvmlab serve --dev` (Next's dev server behind our guard). The
// acting dev endpoints are refused even with the cookie, the key and Sec-Fetch-Site: same-origin, and
// no inspector port opens. Positive control: the API answers with cookie + key.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../bin/pvmlab.mjs');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pvd-'));
// `next dev` rewrites tsconfig.json's include list: put it back afterwards.
const TSCONFIG = path.resolve(path.dirname(BIN), '..', 'tsconfig.json');
const tsconfig = fs.readFileSync(TSCONFIG, 'utf8');
let child: ChildProcess;
let port = 0;
let token = '';

function get(p: string, headers: Record<string, string>): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: p, headers: { host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      let b = '';
      res.on('data', (c) => { b += c; });
      res.on('end', () => resolve({ status: res.statusCode!, body: b, headers: res.headers }));
    }).on('error', reject);
  });
}
const open = (p: number) => new Promise<boolean>((r) => { const s = net.connect(p, '127.0.0.1'); s.once('connect', () => { s.destroy(); r(true); }); s.once('error', () => r(false)); });

beforeAll(async () => {
  port = await new Promise<number>((r) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => r(p)); }); });
  child = spawn('node', [BIN, 'serve', '--dev', '--port', String(port)], { env: { ...process.env, PVMLAB_HOME: path.join(tmp, 'lab'), NEXT_TELEMETRY_DISABLED: '1' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no launch URL: ${out}`)), 120_000);
    child.stdout!.on('data', (c) => { out += c; const m = /open: http:\/\/127\.0\.0\.1:\d+\/\?token=([\w-]+)/.exec(out); if (m) { token = m[1]; clearTimeout(t); resolve(); } });
    child.stderr!.on('data', (c) => { out += c; });
  });
}, 150_000);
afterAll(async () => {
  if (child.pid) { try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ } }
  await new Promise((r) => setTimeout(r, 1500));
  if (child.pid) { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }
  fs.rmSync(tmp, { recursive: true, force: true });
  if (fs.readFileSync(TSCONFIG, 'utf8') !== tsconfig) fs.writeFileSync(TSCONFIG, tsconfig);
});

describe('dev mode', () => {
  it('(case 1) no acting dev endpoint is reachable, with every credential; no inspector opens', { timeout: 120_000 }, async () => {
    const login = await get(`/?token=${token}`, {});
    expect(login.status).toBe(302);
    const cookie = String(login.headers['set-cookie']![0]).split(';')[0];
    const inspectorBefore = await open(9229);
    for (const p of ['/__nextjs_attach-nodejs-inspector', '/__nextjs_launch-editor?file=server/main.ts', '/__nextjs_restart_dev']) {
      for (const site of ['same-origin', 'same-site', undefined]) {
        const r = await get(p, { cookie, 'x-pvmlab-key': token, ...(site ? { 'sec-fetch-site': site } : {}) });
        expect(r.status, `${p} ${site}`).toBe(403);
      }
    }
    // Read-only dev endpoints: only from the panel's own page.
    expect((await get('/__nextjs_source-map?filename=x', { cookie, 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'no-cors' })).status).toBe(403);
    expect((await get('/__nextjs_source-map?filename=x', { cookie })).status).toBe(403);
    expect(await open(9229)).toBe(inspectorBefore);
    // Positive control: the panel's API answers in dev mode with cookie + key.
    const api = await get('/api/trpc/host.home', { cookie, 'x-pvmlab-key': token });
    expect(api.status).toBe(200);
    expect((await get('/api/trpc/host.home', { cookie })).status).toBe(401);
  });
});
