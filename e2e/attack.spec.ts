// The attack suite (DESIGN §3): a local panel that can open shells is a target. Each attack runs the
// way an attacker would run it (a real Chromium page on another origin, or exact bytes from Node), and
// each has a positive control — the same request with the right Host / Origin / cookie succeeds — so
// no test here passes merely because the request was malformed.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from '@playwright/test';
import {
  CHROMIUM, CHROMIUM_ARGS, COOKIE_NAME, expect, keyHeader, keyProtocols, rawHttp, rawRequest, sessionCookie, signIn, test, trpcQuery, trpcSubscribe,
  upgradeRequest, watchNetwork, wsOutcome, type NetWatch, type PanelInfo, type RawResponse,
} from './harness.ts';

interface DoctorLike { checkedAt: string }
interface WsResult { opened: boolean; messages: string[]; code: number | null; timedOut?: boolean; error?: string }
interface FetchResult { ok: boolean; type?: string; status?: number; text?: string; error?: string }
interface AttackKit {
  ws(url: string, send: string | null, timeoutMs: number, key?: string): Promise<WsResult>;
  postNoCors(url: string, body: 'form' | 'text', key?: string): Promise<FetchResult>;
  read(url: string, key?: string): Promise<FetchResult>;
  submitForm(url: string): void;
}
declare global { interface Window { attack: AttackKit } }

/**
 * The attacker's script. Served by the attacker's page on another port, and injected unchanged into a
 * panel page for the positive controls: the only difference between attack and control is the origin.
 */
const ATTACK_JS = `
window.attack = {
  // key: the panel's page has it (positive controls); an attacker on another port does not.
  ws(url, send, timeoutMs, key) {
    return new Promise((resolve) => {
      const out = { opened: false, messages: [], code: null };
      let s;
      try { s = key ? new WebSocket(url, ['pvmlab', 'pvmlab.key.' + key]) : new WebSocket(url); } catch (e) { resolve({ ...out, error: String(e) }); return; }
      const timer = setTimeout(() => { resolve({ ...out, timedOut: true }); s.close(); }, timeoutMs);
      s.onopen = () => { out.opened = true; if (send) s.send(send); };
      s.onmessage = (e) => { out.messages.push(String(e.data)); clearTimeout(timer); resolve({ ...out }); s.close(); };
      s.onclose = (e) => { out.code = e.code; clearTimeout(timer); resolve({ ...out }); };
    });
  },
  async postNoCors(url, kind, key) {
    const body = kind === 'form' ? new FormData() : '{}';
    try {
      const r = await fetch(url, key ? { method: 'POST', credentials: 'include', body, headers: { 'x-pvmlab-key': key } }
        : { method: 'POST', mode: 'no-cors', credentials: 'include', body });
      return { ok: true, type: r.type, status: r.status };
    } catch (e) { return { ok: false, error: String(e) }; }
  },
  async read(url, key) {
    try {
      const r = await fetch(url, { credentials: 'include', headers: key ? { 'x-pvmlab-key': key } : {} });
      return { ok: true, type: r.type, status: r.status, text: await r.text() };
    } catch (e) { return { ok: false, error: String(e) }; }
  },
  submitForm(url) {
    const f = document.createElement('form');
    f.method = 'POST'; f.action = url; f.enctype = 'multipart/form-data';
    document.body.append(f);
    f.submit();
  },
};
`;

/** A page on ANOTHER loopback port — same site as the panel (ports do not make sites), other origin. */
async function startAttacker(panel: PanelInfo): Promise<{ url: string; close(): Promise<void> }> {
  const html = `<!doctype html><html><head><title>attacker</title><script>${ATTACK_JS}</script></head>
<body><h1>free cat pictures</h1></body></html>`;
  const server = http.createServer((req, res) => {
    if (req.url === '/' || req.url?.startsWith('/?')) {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(html);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  expect(port).not.toBe(panel.port);
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

async function checkedAt(panel: PanelInfo, cookie: string): Promise<string> {
  return (await trpcQuery<DoctorLike>(panel, 'host.doctor', cookie)).checkedAt;
}

const SUBSCRIBE = JSON.stringify(trpcSubscribe(1, 'host.events'));

function expectNoData(r: RawResponse) {
  expect(r.body).not.toContain('checkedAt');
  expect(r.body).not.toContain('"result"');
}

test.describe('DNS rebinding', () => {
  test('a name that resolves to 127.0.0.1 gets 403 for pages and API, even with the launch token', async ({ playwright, panel }) => {
    const browser = await playwright.chromium.launch({
      executablePath: CHROMIUM,
      args: [...CHROMIUM_ARGS, '--host-resolver-rules=MAP rebind.test 127.0.0.1'],
    });
    try {
      const context = await browser.newContext();
      const page = await context.newPage();
      const evil = `http://rebind.test:${panel.port}`;
      for (const path of [`/?token=${panel.token}`, '/', '/setup', '/api/trpc/host.doctor', `/api/trpc/host.doctor?token=${panel.token}`]) {
        const res = await page.goto(evil + path);
        expect(res?.status(), path).toBe(403);
        // The answer is the panel's own refusal: the resolver rule really sent us to the panel.
        expect(await res!.text(), path).toContain('Host header not allowed');
        expect(res!.request().redirectedFrom(), path).toBeNull();
      }
      expect(await context.cookies(), 'no cookie for the rebinding name').toEqual([]);
      // A script on the rebound origin (same origin as the panel, as far as the browser knows) reads nothing.
      const read = await page.evaluate(async () => {
        const r = await fetch('/api/trpc/host.doctor');
        return { status: r.status, text: await r.text() };
      });
      expect(read.status).toBe(403);
      expect(read.text).not.toContain('checkedAt');

      // Positive control: the same browser, the panel's real name — the launch URL signs in.
      const ok = await page.goto(panel.launchUrl);
      expect(ok?.status()).toBe(200);
      await expect.poll(() => page.url()).toBe(`${panel.baseURL}/`);
      expect((await page.goto(`${panel.baseURL}/setup`))?.status()).toBe(200);
      // … and the cookie it got is not sent to (or honoured for) the rebinding name either.
      expect((await page.goto(`${evil}/setup`))?.status()).toBe(403);
    } finally {
      await browser.close();
    }
  });
});

test.describe('a page on another loopback port, in a signed-in browser', () => {
  let attacker: Awaited<ReturnType<typeof startAttacker>>;
  test.beforeAll(async ({ panel }) => { attacker = await startAttacker(panel); });
  test.afterAll(async () => { await attacker?.close(); });

  async function openAttacker(page: Page): Promise<NetWatch> {
    const net = await watchNetwork(page);
    const res = await page.goto(attacker.url);
    expect(res?.status()).toBe(200);
    await expect(page.locator('h1')).toHaveText('free cat pictures');
    return net;
  }

  /**
   * What makes these attacks real: the request left the attacker's page WITH the session cookie (other
   * ports on 127.0.0.1 are the same site, so SameSite=Strict does not stop it) and with the attacker's
   * Origin — which is all the panel has to refuse it on.
   */
  function expectCookieAndForeignOrigin(sent: Record<string, string> | undefined, what: string) {
    expect(sent, `${what}: request headers seen`).toBeDefined();
    expect(sent!.cookie ?? '', `${what} carries the session cookie`).toContain(`${COOKIE_NAME}=`);
    expectForeignOrigin(sent, what);
  }
  function expectForeignOrigin(sent: Record<string, string> | undefined, what: string) {
    expect(sent, `${what}: request headers seen`).toBeDefined();
    expect(sent!.origin, `${what} Origin`).toBe(new URL(attacker.url).origin);
  }

  test('cannot open the tRPC WebSocket', async ({ page, panel }) => {
    const wsUrl = `ws://127.0.0.1:${panel.port}/ws/trpc`;
    // Positive control first: the same code on the panel's origin subscribes and hears back.
    await page.addScriptTag({ content: ATTACK_JS });
    const control = await page.evaluate(([u, s, k]) => window.attack.ws(u, s, 10_000, k), [wsUrl, SUBSCRIBE, panel.token] as const);
    expect(control.opened).toBe(true);
    expect(control.messages.join('\n')).toMatch(/"type":"started"/);

    const net = await openAttacker(page);
    const r = await page.evaluate(([u, s]) => window.attack.ws(u, s, 10_000), [wsUrl, SUBSCRIBE] as const);
    expect(r.opened, JSON.stringify(r)).toBe(false);
    expect(r.messages).toEqual([]);
    expect(r.timedOut).toBeUndefined();
    expect(r.code).toBe(1006); // no socket: the handshake failed
    const hs = await net.handshake(wsUrl);
    expect(hs.status, hs.error).toBe(403);
    // (DevTools does not report the Cookie header of WebSocket handshakes; the HTTP attacks below show the
    // browser attaches it to same-site requests, and the Node replay here sends it explicitly.)
    expectForeignOrigin(hs.sent, 'the handshake');

    // The same handshake from Node, with the attacker's Origin and the victim's cookie: 403 too.
    const cookie = await sessionCookie(panel);
    const node = await wsOutcome(wsUrl, { Origin: new URL(attacker.url).origin, Cookie: cookie }, trpcSubscribe(1, 'host.events'));
    expect(node).toMatchObject({ kind: 'refused', status: 403 });
  });

  test('cannot trigger a mutation with a no-cors POST or a form', async ({ page, panel }) => {
    const cookie = await sessionCookie(panel);
    const url = `${panel.baseURL}/api/trpc/host.recheck`;

    // Positive control: the identical request from the panel's own page runs the mutation.
    await page.addScriptTag({ content: ATTACK_JS });
    let before = await checkedAt(panel, cookie);
    const control = await page.evaluate(([u, k, key]) => window.attack.postNoCors(u, k, key), [url, 'form', panel.token] as const);
    expect(control, 'control').toMatchObject({ ok: true, status: 200 });
    expect(await checkedAt(panel, cookie), 'the control re-checked').not.toBe(before);

    const net = await openAttacker(page);
    before = await checkedAt(panel, cookie);
    for (const kind of ['form', 'text'] as const) {
      net.clear();
      const r = await page.evaluate(([u, k]) => window.attack.postNoCors(u, k), [url, kind] as const);
      // The page learns nothing either way (opaque, or blocked by Cross-Origin-Resource-Policy).
      expect(r.status ?? 0, kind).toBe(0);
      const sent = await net.answered(url, 'POST');
      expect(sent.status, kind).toBe(403);
      expectCookieAndForeignOrigin(sent.sent, `no-cors POST (${kind})`);
    }
    // A top-level form POST (a navigation: it carries the cookie too) is refused the same way.
    net.clear();
    const nav = page.waitForResponse((r) => r.url() === url && r.request().isNavigationRequest());
    await page.evaluate((u) => window.attack.submitForm(u), url);
    expect((await nav).status()).toBe(403);
    await expect(page.locator('body')).toContainText('Origin not allowed');
    expectCookieAndForeignOrigin((await net.answered(url, 'POST')).sent, 'form POST');

    // Server side: the doctor was not re-run by any of it.
    expect(await checkedAt(panel, cookie)).toBe(before);
  });

  test('cannot read API data with a CORS fetch', async ({ page, panel }) => {
    const url = `${panel.baseURL}/api/trpc/host.doctor`;
    await page.addScriptTag({ content: ATTACK_JS });
    const control = await page.evaluate(([u, k]) => window.attack.read(u, k), [url, panel.token] as const);
    expect(control).toMatchObject({ ok: true, status: 200 });
    expect(control.text).toContain('checkedAt');

    const net = await openAttacker(page);
    const r = await page.evaluate((u) => window.attack.read(u), url);
    expect(r.ok, JSON.stringify(r)).toBe(false);
    expect(r.error).toMatch(/TypeError/);
    const sent = await net.answered(url);
    expect(sent.status).toBe(403);
    expect(sent.received?.['access-control-allow-origin']).toBeUndefined();
    expect(sent.received?.['access-control-allow-credentials']).toBeUndefined();
    expectCookieAndForeignOrigin(sent.sent, 'the CORS fetch');
  });

  test('cannot frame the panel', async ({ page, panel }) => {
    const net = await openAttacker(page);
    const url = `${panel.baseURL}/setup`;
    await page.evaluate((u) => {
      const f = document.createElement('iframe');
      f.src = u;
      f.id = 'victim';
      document.body.append(f);
    }, url);
    const sent = await net.answered(url);
    // The browser fetched it with the cookie (200) — and refused to render it.
    expect(sent.cookies).toContain(COOKIE_NAME);
    expect(sent.status).toBe(200);
    expect(sent.received?.['x-frame-options']).toBe('DENY');
    expect(sent.received?.['content-security-policy']).toContain("frame-ancestors 'none'");
    await expect.poll(() => page.frames().length).toBe(2);
    const frame = page.frames().find((f) => f !== page.mainFrame())!;
    await expect.poll(() => frame.url()).not.toBe(url);
    expect(await page.frameLocator('#victim').locator('[data-testid="tools"]').count()).toBe(0);
  });
});

test.describe('without the session cookie', () => {
  test('API → 401, page → 401, /ws/trpc → closed with 4401', async ({ context, panel }) => {
    const page = await context.newPage();
    for (const path of ['/', '/setup', '/api/trpc/host.doctor', '/api/trpc/host.home']) {
      const res = await page.goto(panel.baseURL + path);
      expect(res?.status(), path).toBe(401);
      const body = await res!.text();
      expect(body, path).toContain('launch URL');
      expect(body, path).not.toContain('checkedAt');
    }
    // From a document on the panel's origin (the 401 page), so Host and Origin are right: only the
    // cookie is missing. The server accepts the handshake and closes with 4401 before any tRPC message.
    await page.addScriptTag({ content: ATTACK_JS });
    const wsUrl = `ws://127.0.0.1:${panel.port}/ws/trpc`;
    const r = await page.evaluate(([u, s]) => window.attack.ws(u, s, 10_000), [wsUrl, SUBSCRIBE] as const);
    expect(r.code, JSON.stringify(r)).toBe(4401);
    expect(r.messages).toEqual([]);

    // The same from Node, exact headers; a mutation too.
    const origin = panel.baseURL;
    expect(await wsOutcome(wsUrl, { Origin: origin }, trpcSubscribe(1, 'host.events'))).toMatchObject({ kind: 'closed', code: 4401, messages: [] });
    const wrongCookie = `${COOKIE_NAME}=${'A'.repeat(panel.token.length)}`;
    expect(await wsOutcome(wsUrl, { Origin: origin, Cookie: wrongCookie }, trpcSubscribe(1, 'host.events'))).toMatchObject({ kind: 'closed', code: 4401 });
    const cookie = await sessionCookie(panel);
    const before = await checkedAt(panel, cookie);
    const post = await rawRequest({ port: panel.port, method: 'POST', path: '/api/trpc/host.recheck', headers: { origin, 'content-type': 'application/json' }, body: '{}' });
    expect(post.status).toBe(401);
    expectNoData(post);
    const api = await rawRequest({ port: panel.port, path: '/api/trpc/host.doctor', headers: { cookie: wrongCookie } });
    expect(api.status).toBe(401);
    expectNoData(api);
    expect(await checkedAt(panel, cookie)).toBe(before);

    // Positive controls: with the cookie, the socket subscribes, and the page and API answer.
    expect(await wsOutcome(wsUrl, { Origin: origin, Cookie: cookie }, trpcSubscribe(1, 'host.events'), 10_000, keyProtocols(panel))).toMatchObject({ kind: 'message' });
    await signIn(page, panel);
    expect((await page.goto('/setup'))?.status()).toBe(200);
    await page.addScriptTag({ content: ATTACK_JS });
    const ok = await page.evaluate(([u, s, k]) => window.attack.ws(u, s, 10_000, k), [wsUrl, SUBSCRIBE, panel.token] as const);
    expect(ok.opened).toBe(true);
    expect(ok.messages.join('\n')).toMatch(/"type":"started"/);
  });
});

test.describe('WebSocket Origin', () => {
  test('an upgrade with Origin null, missing or foreign is refused with 403 on the handshake', async ({ panel }) => {
    const cookie = await sessionCookie(panel);
    const url = `ws://127.0.0.1:${panel.port}/ws/trpc`;
    const bad: Record<string, string | undefined> = {
      'null': 'null',
      'missing': undefined,
      'other port': `http://127.0.0.1:${panel.port + 1}`,
      'https': `https://127.0.0.1:${panel.port}`,
      'trailing slash': `http://127.0.0.1:${panel.port}/`,
      'evil suffix': `http://127.0.0.1:${panel.port}.evil.com`,
      'rebinding name': `http://rebind.test:${panel.port}`,
      'upper case': `http://LOCALHOST:${panel.port}`,
    };
    for (const [label, origin] of Object.entries(bad)) {
      const headers: Record<string, string> = { Cookie: cookie };
      if (origin !== undefined) headers.Origin = origin;
      const r = await wsOutcome(url, headers, trpcSubscribe(1, 'host.events'));
      expect(r, label).toMatchObject({ kind: 'refused', status: 403 });
    }
    // Raw sockets and unknown socket paths get the same rule.
    expect(await wsOutcome(`ws://127.0.0.1:${panel.port}/ws/serial/x`, { Cookie: cookie, Origin: 'null' })).toMatchObject({ kind: 'refused', status: 403 });
    // Non-GET requests follow the same Origin rule.
    const before = await checkedAt(panel, cookie);
    for (const origin of ['null', undefined]) {
      const headers: Record<string, string | null> = { cookie, 'content-type': 'application/json' };
      if (origin) headers.origin = origin;
      const r = await rawRequest({ port: panel.port, method: 'POST', path: '/api/trpc/host.recheck', headers, body: '{}' });
      expect(r.status, `POST with Origin ${origin}`).toBe(403);
    }
    expect(await checkedAt(panel, cookie)).toBe(before);

    // Positive controls: each allowed origin, with the cookie, subscribes.
    for (const origin of [`http://127.0.0.1:${panel.port}`, `http://localhost:${panel.port}`, `http://[::1]:${panel.port}`]) {
      const r = await wsOutcome(url, { Origin: origin, Cookie: cookie }, trpcSubscribe(1, 'host.events'), 10_000, keyProtocols(panel));
      expect(r, origin).toMatchObject({ kind: 'message' });
      expect((r as { messages: string[] }).messages[0]).toMatch(/"type":"started"/);
    }
  });
});

test.describe('response headers', () => {
  test('frames denied, no referrer, no-store on /api, never any CORS header', async ({ panel }) => {
    const cookie = await sessionCookie(panel);
    const u = new URL(panel.launchUrl);
    const home = await rawRequest({ port: panel.port, path: '/', headers: { cookie } });
    expect(home.status).toBe(200);
    const asset = /\/_next\/static\/[^"'\s]+\.js/.exec(home.body)?.[0];
    expect(asset, 'the lab page references its scripts').toBeTruthy();

    const cases: { label: string; req: Parameters<typeof rawRequest>[0]; status: number; api?: boolean }[] = [
      { label: 'launch redirect', req: { port: panel.port, path: u.pathname + u.search }, status: 302 },
      { label: 'lab page', req: { port: panel.port, path: '/', headers: { cookie } }, status: 200 },
      { label: 'setup page', req: { port: panel.port, path: '/setup', headers: { cookie } }, status: 200 },
      { label: 'static asset', req: { port: panel.port, path: asset!, headers: { cookie } }, status: 200 },
      { label: 'API query', req: { port: panel.port, path: '/api/trpc/host.doctor', headers: { cookie, ...keyHeader(panel) } }, status: 200, api: true },
      { label: 'API query, same-origin Origin', req: { port: panel.port, path: '/api/trpc/host.home', headers: { cookie, origin: panel.baseURL, ...keyHeader(panel) } }, status: 200, api: true },
      { label: 'API unknown', req: { port: panel.port, path: '/api/nope', headers: { cookie, ...keyHeader(panel) } }, status: 404, api: true },
      { label: 'API with the cookie but no key', req: { port: panel.port, path: '/api/trpc/host.doctor', headers: { cookie } }, status: 401, api: true },
      { label: 'API without cookie', req: { port: panel.port, path: '/api/trpc/host.doctor' }, status: 401, api: true },
      { label: 'page without cookie', req: { port: panel.port, path: '/' }, status: 401 },
      { label: 'API foreign Origin', req: { port: panel.port, path: '/api/trpc/host.doctor', headers: { cookie, origin: 'http://evil.example' } }, status: 403, api: true },
      { label: 'preflight foreign Origin', req: { port: panel.port, method: 'OPTIONS', path: '/api/trpc/host.recheck',
        headers: { cookie, origin: 'http://evil.example', 'access-control-request-method': 'POST' } }, status: 403, api: true },
      { label: 'bad Host', req: { port: panel.port, path: '/api/trpc/host.doctor', headers: { cookie, host: `evil.example:${panel.port}` } }, status: 403, api: true },
    ];
    for (const c of cases) {
      const r = await rawRequest(c.req);
      expect(r.status, c.label).toBe(c.status);
      expect(r.headers['x-frame-options'], c.label).toBe('DENY');
      expect(r.headers['content-security-policy'], c.label).toMatch(/(^|;)\s*frame-ancestors 'none'\s*(;|$)/);
      expect(r.headers['referrer-policy'], c.label).toBe('no-referrer');
      const cors = Object.keys(r.headers).filter((h) => h.startsWith('access-control-'));
      expect(cors, c.label).toEqual([]);
      if (c.api) expect(r.headers['cache-control'], c.label).toBe('no-store');
    }
    // A same-origin preflight (allowed Origin, with cookie) grants nothing either.
    const pre = await rawRequest({ port: panel.port, method: 'OPTIONS', path: '/api/trpc/host.recheck',
      headers: { cookie, origin: panel.baseURL, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
    expect(Object.keys(pre.headers).filter((h) => h.startsWith('access-control-')), `preflight ${pre.status}`).toEqual([]);
  });

  test('every response the browser gets while using the panel carries the headers, none carries CORS', async ({ page, panel }) => {
    const seen: { url: string; status: number; headers: Record<string, string> }[] = [];
    page.on('response', async (r) => {
      if (r.url().startsWith(panel.baseURL)) seen.push({ url: r.url(), status: r.status(), headers: await r.allHeaders() });
    });
    await page.goto('/setup');
    await expect(page.getByTestId('checked-at')).toBeVisible();
    await page.getByRole('button', { name: 'Re-check' }).click();
    await expect(page.getByRole('button', { name: 'Re-check' })).toBeEnabled();
    await expect.poll(() => seen.filter((s) => s.url.includes('/api/trpc/')).length).toBeGreaterThan(0);
    for (const s of seen) {
      expect(s.headers['x-frame-options'], s.url).toBe('DENY');
      expect(Object.keys(s.headers).filter((h) => h.startsWith('access-control-')), s.url).toEqual([]);
      if (new URL(s.url).pathname.startsWith('/api/')) expect(s.headers['cache-control'], s.url).toBe('no-store');
    }
  });
});

test.describe('Host header (DNS rebinding from any client)', () => {
  test('anything but exactly 127.0.0.1:PORT, localhost:PORT or [::1]:PORT is refused with 403', async ({ panel }) => {
    const cookie = await sessionCookie(panel);
    const p = panel.port;
    const other = p === 65535 ? p - 1 : p + 1;
    const get = (path: string, hostLine: string | null, version = '1.1') =>
      rawHttp(p, [`GET ${path} HTTP/${version}`, ...(hostLine === null ? [] : [hostLine]), `Cookie: ${cookie}`, `X-Pvmlab-Key: ${panel.token}`, 'Connection: close', '', ''].join('\r\n'));
    const upgrade = (hostLine: string | null) =>
      rawHttp(p, upgradeRequest('/ws/trpc', [...(hostLine === null ? [] : [hostLine]), `Origin: ${panel.baseURL}`, `Cookie: ${cookie}`, `X-Pvmlab-Key: ${panel.token}`]));

    const bad = [
      `localhost.evil.com:${p}`,
      `127.0.0.1:${p}.evil.com`,
      `127.0.0.1:${other}`,
      `localhost:${other}`,
      '127.0.0.1',
      'localhost',
      `localhost.:${p}`,
      `127.0.0.1.:${p}`,
      `LOCALHOST:${p}`,
      `LocalHost:${p}`,
      `evil.com:${p}`,
      `127.0.0.2:${p}`,
      `0.0.0.0:${p}`,
      `[::ffff:127.0.0.1]:${p}`,
      `2130706433:${p}`,
      `user@127.0.0.1:${p}`,
      `127.0.0.1:0${p}`,
      `127.0.0.1:${p}x`,
      '',
    ];
    for (const host of bad) {
      for (const path of ['/', '/setup', '/api/trpc/host.doctor', `/?token=${panel.token}`]) {
        const r = await get(path, `Host: ${host}`);
        expect(r.status, `Host ${JSON.stringify(host)} ${path}`).toBe(403);
        expect(r.body).toContain('Host header not allowed');
        expect(r.headers['set-cookie'], `Host ${JSON.stringify(host)} ${path}`).toBeUndefined();
        expect(r.body).not.toContain('checkedAt');
      }
      const u = await upgrade(`Host: ${host}`);
      expect(u.status, `upgrade, Host ${JSON.stringify(host)}`).toBe(403);
    }
    // A good Host after a bad one is not a way around it (a browser never sends two; Node keeps the first).
    expect((await get('/api/trpc/host.doctor', `Host: evil.com:${p}\r\nHost: 127.0.0.1:${p}`)).status).toBe(403);

    // No Host at all. HTTP/1.1 requires one: Node's parser refuses it (400) before the guard runs;
    // HTTP/1.0 allows it, so the guard sees no Host: 403. Upgrades without Host reach the guard: 403.
    const none11 = await get('/api/trpc/host.doctor', null);
    expect(none11.status).toBe(400);
    expect(none11.body).not.toContain('checkedAt');
    const none10 = await get('/api/trpc/host.doctor', null, '1.0');
    expect(none10.status).toBe(403);
    expect(none10.body).toContain('Host header not allowed');
    expect((await upgrade(null)).status).toBe(403);

    // Positive controls: the three allowed forms, same cookie, same requests.
    for (const host of [`127.0.0.1:${p}`, `localhost:${p}`, `[::1]:${p}`]) {
      const api = await get('/api/trpc/host.doctor', `Host: ${host}`);
      expect(api.status, host).toBe(200);
      expect(api.body).toContain('checkedAt');
      expect((await get('/setup', `Host: ${host}`)).status, host).toBe(200);
      expect((await get('/api/trpc/host.doctor', `Host: ${host}`, '1.0')).status, `${host} HTTP/1.0`).toBe(200);
      const u = await upgrade(`Host: ${host}`);
      expect(u.status, `upgrade, Host ${host}`).toBe(101);
    }
  });
});
