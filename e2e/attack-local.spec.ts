// Issue 12, browser cases: what got *around* the Host/Origin/cookie guard. A page on another port of
// 127.0.0.1 receives the session cookie (cookies ignore ports; SameSite sees one site). Each attack is
// played for real (Chromium, a server on another port) with a positive control beside it.
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import {
  COOKIE_NAME, expect, keyHeader, keyProtocols, rawHttp, rawRequest, sessionCookie, test, trpcSubscribe, watchNetwork, wsOutcome,
} from './harness.ts';

/** A server on another loopback port that serves `html` and remembers the Cookie header it was sent. */
async function otherPort(html: string): Promise<{ url: string; cookies: string[]; close(): Promise<void> }> {
  const cookies: string[] = [];
  const server = http.createServer((req, res) => {
    if (req.headers.cookie) cookies.push(req.headers.cookie);
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(html);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, cookies,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

const sessionOf = (header: string) => header.split(';').map((c) => c.trim()).find((c) => c.startsWith(`${COOKIE_NAME}=`))!;

test('(1) an <img> on another port cannot make the panel act on a GET: dev endpoints and API refused', async ({ page, panel }) => {
  const inspectorWasOpen = await portOpen(9229);
  const targets = ['/__nextjs_attach-nodejs-inspector', '/__nextjs_launch-editor?file=/etc/passwd', '/api/logs/x', '/api/trpc/host.doctor', '/setup'];
  const evil = await otherPort(`<!doctype html><h1>cats</h1>${targets.map((t) => `<img src="${panel.baseURL}${t}">`).join('')}`);
  try {
    const net = await watchNetwork(page);
    await page.goto(evil.url);
    for (const t of targets) {
      const sent = await net.answered(panel.baseURL + t);
      // Real: the browser attached the session cookie and said where it came from.
      expect(sent.cookies, t).toContain(COOKIE_NAME);
      expect(sent.sent?.['sec-fetch-site'], t).toBe('same-site');
      expect(sent.status, t).toBe(403);
    }
    expect(await portOpen(9229), 'no inspector was opened').toBe(inspectorWasOpen);
    // Even from the panel's own origin, the acting dev endpoints are never served.
    for (const p of ['/__nextjs_attach-nodejs-inspector', '/__nextjs_restart_dev']) {
      const r = await rawRequest({ port: panel.port, path: p, headers: { cookie: sessionOf(evil.cookies[0]), 'sec-fetch-site': 'same-origin', ...keyHeader(panel) } });
      expect(r.status, p).toBe(403);
      expect(r.body).toContain('not reachable through the panel');
    }
    // Positive control: the same page, navigated to from the panel's own origin, loads.
    expect((await page.goto(`${panel.baseURL}/setup`))?.status()).toBe(200);
  } finally { await evil.close(); }
});

test('(3) the cookie another port receives, replayed with the right Host and Origin, opens nothing', async ({ page, panel }) => {
  const evil = await otherPort('<!doctype html><h1>cats</h1>');
  try {
    await page.goto(evil.url);
    await expect.poll(() => evil.cookies.length).toBeGreaterThan(0);
    const stolen = sessionOf(evil.cookies[0]);
    expect(stolen, 'the other port really got the session cookie').toMatch(new RegExp(`^${COOKIE_NAME}=.+`));
    const origin = panel.baseURL;
    const h = { cookie: stolen, origin, 'content-type': 'application/json' };
    // The attack of the issue: a VM whose image is /etc/shadow, then its serial socket.
    const create = await rawRequest({ port: panel.port, method: 'POST', path: '/api/trpc/vm.create', headers: h,
      body: JSON.stringify({ name: 'shadow', image: '/etc/shadow', boot: 'disk' }) });
    expect(create.status).toBe(401);
    expect(create.body).toContain('no panel key');
    expect((await rawRequest({ port: panel.port, path: '/api/trpc/vm.list', headers: { cookie: stolen } })).status).toBe(401);
    expect((await rawRequest({ port: panel.port, path: '/api/logs/shadow', headers: { cookie: stolen } })).status).toBe(401);
    for (const p of ['/ws/trpc', '/ws/serial/shadow', '/ws/logs/shadow']) {
      const r = await wsOutcome(`ws://127.0.0.1:${panel.port}${p}`, { Cookie: stolen, Origin: origin }, trpcSubscribe(1, 'host.events'));
      expect(r, p).toMatchObject({ kind: 'closed', code: 4401 });
      // A guessed key (the cookie's own value) is no better.
      const g = await wsOutcome(`ws://127.0.0.1:${panel.port}${p}`, { Cookie: stolen, Origin: origin }, undefined, 10_000,
        ['pvmlab', `pvmlab.key.${stolen.split('=')[1]}`]);
      expect(g, p).toMatchObject({ kind: 'closed', code: 4401 });
    }
    // Positive control: cookie + key (what the panel's page holds) works, and the socket never echoes the key.
    expect((await rawRequest({ port: panel.port, path: '/api/trpc/vm.list', headers: { cookie: stolen, ...keyHeader(panel) } })).status).toBe(200);
    const ok = await wsOutcome(`ws://127.0.0.1:${panel.port}/ws/trpc`, { Cookie: stolen, Origin: origin }, trpcSubscribe(1, 'host.events'), 10_000, keyProtocols(panel));
    expect(ok).toMatchObject({ kind: 'message' });
    // The key never travels in a URL after the launch: the address bar was cleaned.
    await page.goto(panel.launchUrl);
    await expect.poll(() => page.url()).toBe(`${panel.baseURL}/`);
  } finally { await evil.close(); }
});

test('(12) a decoy pvmlab_session planted by another port does not lock the user out', async ({ page, panel }) => {
  const evil = await otherPort(`<!doctype html><h1>cats</h1><script>
    document.cookie = '${COOKIE_NAME}=junk; Path=/api';
    document.cookie = '${COOKIE_NAME}=junk2; Path=/ws';
  </script>`);
  try {
    await page.goto(evil.url);
    await expect.poll(async () => (await page.context().cookies(panel.baseURL + '/api/x')).filter((c) => c.name === COOKIE_NAME).length).toBe(2);
    const net = await watchNetwork(page);
    await page.goto(`${panel.baseURL}/setup`);
    await expect(page.getByTestId('checked-at')).toBeVisible();
    await page.getByRole('button', { name: 'Re-check' }).click();
    await expect(page.getByRole('button', { name: 'Re-check' })).toBeEnabled();
    const api = net.requests().filter((r) => r.url.includes('/api/trpc/') && r.status !== undefined);
    expect(api.length).toBeGreaterThan(0);
    for (const r of api) {
      expect(r.sent?.cookie, 'the decoy really went first').toMatch(new RegExp(`^${COOKIE_NAME}=junk;`));
      expect(r.status, r.url).toBe(200);
    }
  } finally {
    await evil.close();
    await page.context().clearCookies({ name: COOKIE_NAME, path: '/api' });
    await page.context().clearCookies({ name: COOKIE_NAME, path: '/ws' });
  }
});


test('(5) a broken record is shown on the lab page with its file and fix; the rest of the panel works', async ({ page, panel }) => {
  const file = `${panel.home}/vms/zz-broken.json`;
  fs.writeFileSync(file, '{"version": 1, "na');
  try {
    const cookie = await sessionCookie(panel);
    const list = await rawRequest({ port: panel.port, path: '/api/trpc/vm.list', headers: { cookie, ...keyHeader(panel) } });
    expect(list.status).toBe(200);
    await page.goto('/');
    const alert = page.getByTestId('broken-records');
    await expect(alert).toContainText(file);
    await expect(alert).toContainText('not valid JSON');
    await expect(alert).toContainText('pvmlab vm clean zz-broken');
    await expect(page.getByTestId('lab-title')).toBeVisible();
  } finally { fs.rmSync(file, { force: true }); }
});

test('(11, 14) hostile upload names and dot-segment paths: 400 with one line, never a 5xx or a wrong VM', async ({ panel }) => {
  const cookie = await sessionCookie(panel);
  const h = { cookie, origin: panel.baseURL, 'content-type': 'application/octet-stream', ...keyHeader(panel) };
  for (const name of ['../x', '%00', 'a'.repeat(300), '']) {
    const r = await rawRequest({ port: panel.port, method: 'POST', path: `/api/upload/artifact?name=${encodeURIComponent(name)}`, headers: h, body: 'hi' });
    expect(r.status, JSON.stringify(name)).toBe(400);
    const j = JSON.parse(r.body) as { ok: boolean; error: string };
    expect(j.error, JSON.stringify(name)).toMatch(/^name: use letters, digits/);
    expect(j.error.split('\n')).toHaveLength(1);
  }
  // (4) Over the size cap: 413 from the headers alone; a good upload with no provisioner: 404 naming the fix.
  const big = await rawHttp(panel.port, [`POST /api/upload/artifact?name=big.iso HTTP/1.1`, `Host: 127.0.0.1:${panel.port}`, `Origin: ${panel.baseURL}`,
    `Cookie: ${cookie}`, `X-Pvmlab-Key: ${panel.token}`, `Content-Length: ${2 ** 40}`, 'Connection: close', '', 'x'].join('\r\n'));
  expect(big.status).toBe(413);
  expect(big.body).toMatch(/"error":"file: \d+ bytes is over the \d+-byte limit/);
  const none = await rawRequest({ port: panel.port, method: 'POST', path: '/api/upload/artifact?name=ok.bin', headers: h, body: 'hi' });
  expect(none.status).toBe(404);
  expect(JSON.parse(none.body).error).toMatch(/no provisioner: create one/);
  for (const p of ['/api/logs/../../etc/passwd', '/api/logs/%2e%2e/%2e%2e/etc/passwd', '/ws/../api/logs/x']) {
    const r = await rawHttp(panel.port, [`GET ${p} HTTP/1.1`, `Host: 127.0.0.1:${panel.port}`, `Cookie: ${cookie}`, `X-Pvmlab-Key: ${panel.token}`, 'Connection: close', '', ''].join('\r\n'));
    expect(r.status, p).toBe(400);
    expect(r.body, p).toContain('segment');
    expect(r.body, p).not.toContain("no VM named 'd'");
  }
});

test('(8) the Setup page states that the multicast segment is open to every local user', async ({ page }) => {
  await page.goto('/setup');
  const note = page.getByTestId('network-exposure');
  await expect(note).toContainText('every local user');
  await expect(note).toContainText('read or inject');
});
