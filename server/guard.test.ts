import { describe, expect, it } from 'vitest';
import { COOKIE_NAME, KEY_HEADER, assertLoopbackBind, factsOf, hasSession, isAllowedHost, isAllowedOrigin, judge, parseCookies } from './guard.ts';

const port = 7780;
const secret = 'S'.repeat(43);
const cookieSecret = 'C'.repeat(43);
const cfg = { port, secret, cookieSecret };
const ok = { method: 'GET', url: '/', host: `127.0.0.1:${port}`, origin: undefined as string | undefined, cookie: `${COOKIE_NAME}=${cookieSecret}`, upgrade: false, key: secret as string | undefined };

describe('Host header', () => {
  it.each([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`])('allows %s', (h) => {
    expect(isAllowedHost(h, port)).toBe(true);
  });
  it.each([
    `localhost.evil.com:${port}`, `127.0.0.1:${port}.evil.com`, `127.0.0.1:${port + 1}`, `localhost.:${port}`,
    `LOCALHOST:${port}`, `Localhost:${port}`, '127.0.0.1', 'localhost', `evil.com:${port}`, `::1:${port}`,
    `127.0.0.1:${port} `, ` 127.0.0.1:${port}`, `0.0.0.0:${port}`, `127.0.0.2:${port}`, 'null', '', undefined,
  ])('refuses %s', (h) => {
    expect(isAllowedHost(h as string | undefined, port)).toBe(false);
    expect(judge({ ...ok, host: h as string | undefined }, cfg)).toMatchObject({ kind: 'deny', status: 403 });
  });
});

describe('Origin', () => {
  it.each([`http://127.0.0.1:${port}`, `http://localhost:${port}`, `http://[::1]:${port}`])('allows %s', (o) => {
    expect(isAllowedOrigin(o, port)).toBe(true);
  });
  it.each(['null', undefined, '', `https://127.0.0.1:${port}`, `http://127.0.0.1:${port + 1}`, `http://localhost.evil.com:${port}`,
    `http://127.0.0.1:${port}/`, `HTTP://127.0.0.1:${port}`, 'http://evil.com'])('refuses %s on upgrades and POSTs', (o) => {
    expect(judge({ ...ok, origin: o as string | undefined, upgrade: true }, cfg)).toMatchObject({ kind: 'deny', status: 403 });
    expect(judge({ ...ok, origin: o as string | undefined, method: 'POST' }, cfg)).toMatchObject({ kind: 'deny', status: 403 });
  });
  it('a GET without Origin is fine, a cross-origin GET is not', () => {
    expect(judge(ok, cfg)).toEqual({ kind: 'allow' });
    expect(judge({ ...ok, origin: 'http://127.0.0.1:9999' }, cfg)).toMatchObject({ kind: 'deny', status: 403 });
  });
});

describe('session', () => {
  it('swaps a good token for a cookie and a clean URL', () => {
    const v = judge({ ...ok, cookie: undefined, url: `/vms/a?x=1&token=${secret}` }, cfg);
    expect(v).toMatchObject({ kind: 'login', location: `/vms/a?x=1#pvmlab-key=${secret}` });
    if (v.kind === 'login') expect(v.cookie).toBe(`${COOKIE_NAME}=${cookieSecret}; HttpOnly; SameSite=Strict; Path=/`);
  });
  it('the clean URL never leaves the panel (no protocol-relative redirect)', () => {
    expect(judge({ ...ok, cookie: undefined, url: `/.//evil.com/?token=${secret}` }, cfg)).toMatchObject({ kind: 'deny', status: 400 });
    expect(judge({ ...ok, cookie: undefined, url: `///evil.com/?token=${secret}` }, cfg)).toMatchObject({ kind: 'login', location: `/#pvmlab-key=${secret}` });
    expect(judge({ ...ok, cookie: undefined, url: `//evil.com/x?token=${secret}` }, cfg)).toMatchObject({ kind: 'login', location: `/x#pvmlab-key=${secret}` });
  });
  it('refuses a bad token, a missing cookie and a wrong cookie', () => {
    expect(judge({ ...ok, cookie: undefined, url: '/?token=nope' }, cfg)).toMatchObject({ kind: 'deny', status: 401 });
    expect(judge({ ...ok, cookie: undefined }, cfg)).toMatchObject({ kind: 'deny', status: 401 });
    expect(judge({ ...ok, cookie: `${COOKIE_NAME}=${cookieSecret}x` }, cfg)).toMatchObject({ kind: 'deny', status: 401 });
    expect(judge({ ...ok, cookie: `other=${cookieSecret}` }, cfg)).toMatchObject({ kind: 'deny', status: 401 });
    // The launch secret is not the cookie: knowing one credential is not knowing the other.
    expect(judge({ ...ok, cookie: `${COOKIE_NAME}=${secret}` }, cfg)).toMatchObject({ kind: 'deny', status: 401 });
  });
  it('a token on an upgrade or a POST does not log in', () => {
    expect(judge({ ...ok, cookie: undefined, url: `/ws/trpc?token=${secret}`, upgrade: true, origin: `http://127.0.0.1:${port}` }, cfg))
      .toMatchObject({ kind: 'deny', status: 401 });
    expect(judge({ ...ok, cookie: undefined, url: `/?token=${secret}`, method: 'POST', origin: `http://127.0.0.1:${port}` }, cfg))
      .toMatchObject({ kind: 'deny', status: 401 });
  });
  it('parses cookies, first one wins', () => {
    expect(parseCookies(`a=1; ${COOKIE_NAME}=x; ${COOKIE_NAME}=y`)).toEqual({ a: '1', [COOKIE_NAME]: 'x' });
  });
  it('(case 12) a planted duplicate session cookie does not lock the user out: each one is tried', () => {
    expect(hasSession(`${COOKIE_NAME}=junk; ${COOKIE_NAME}=${cookieSecret}`, cookieSecret)).toBe(true);
    expect(judge({ ...ok, url: '/api/trpc/host.doctor', cookie: `${COOKIE_NAME}=junk; ${COOKIE_NAME}=${cookieSecret}` }, cfg)).toEqual({ kind: 'allow' });
    expect(hasSession(`${COOKIE_NAME}=junk; ${COOKIE_NAME}=junk2`, cookieSecret)).toBe(false);
  });
});

describe('(case 3) the cookie alone is not the credential', () => {
  const api = { ...ok, url: '/api/trpc/host.doctor' };
  it('API, sockets and every non-GET need the key too', () => {
    expect(judge(api, cfg)).toEqual({ kind: 'allow' });
    for (const key of [undefined, '', 'nope', cookieSecret]) {
      expect(judge({ ...api, key }, cfg), String(key)).toMatchObject({ kind: 'deny', status: 401 });
      expect(judge({ ...ok, url: '/ws/serial/a', upgrade: true, origin: `http://127.0.0.1:${port}`, key }, cfg)).toMatchObject({ kind: 'deny', status: 401 });
      expect(judge({ ...ok, url: '/', method: 'POST', origin: `http://127.0.0.1:${port}`, key }, cfg)).toMatchObject({ kind: 'deny', status: 401 });
    }
    // Pages are GETs that only show: the cookie suffices.
    expect(judge({ ...ok, key: undefined }, cfg)).toEqual({ kind: 'allow' });
  });
  it('the key comes from the header or from a WebSocket subprotocol offer', () => {
    expect(factsOf({ headers: { [KEY_HEADER]: 'k1' } }, false).key).toBe('k1');
    expect(factsOf({ headers: { 'sec-websocket-protocol': 'pvmlab, pvmlab.key.k2' } }, true).key).toBe('k2');
    expect(factsOf({ headers: { 'sec-websocket-protocol': 'pvmlab' } }, true).key).toBeUndefined();
  });
});

describe('(case 1) no GET does anything without proof of the panel\'s own page', () => {
  it('a subresource GET from another port (same-site) or site is refused, a navigation is not', () => {
    for (const fetchSite of ['same-site', 'cross-site']) {
      for (const fetchMode of ['no-cors', 'cors', undefined]) {
        expect(judge({ ...ok, fetchSite, fetchMode }, cfg), `${fetchSite} ${fetchMode}`).toMatchObject({ kind: 'deny', status: 403 });
      }
      expect(judge({ ...ok, fetchSite, fetchMode: 'navigate' }, cfg)).toEqual({ kind: 'allow' });
    }
    expect(judge({ ...ok, fetchSite: 'same-origin', fetchMode: 'cors' }, cfg)).toEqual({ kind: 'allow' });
  });
  it("Next's acting dev endpoints are never served; the others only same-origin", () => {
    for (const p of ['/__nextjs_attach-nodejs-inspector', '/__nextjs_launch-editor?file=x', '/__nextjs_restart_dev']) {
      for (const fetchSite of ['same-origin', undefined, 'none']) {
        expect(judge({ ...ok, url: p, fetchSite }, cfg), p).toMatchObject({ kind: 'deny', status: 403 });
        expect(judge({ ...ok, url: p, fetchSite, method: 'POST', origin: `http://127.0.0.1:${port}` }, cfg), p).toMatchObject({ kind: 'deny', status: 403 });
      }
    }
    expect(judge({ ...ok, url: '/__nextjs_source-map?x', fetchSite: 'same-origin' }, cfg)).toEqual({ kind: 'allow' });
    for (const fetchSite of [undefined, 'same-site', 'none']) {
      expect(judge({ ...ok, url: '/__nextjs_source-map?x', fetchSite, fetchMode: 'navigate' }, cfg)).toMatchObject({ kind: 'deny', status: 403 });
    }
  });
});

describe('(case 14) dot segments are refused before any prefix check', () => {
  it.each(['/api/logs/../../etc/passwd', '/api/logs/%2e%2e/%2E%2E/etc/passwd', '/api/logs/..%2f..%2fetc', '/ws/serial/./a', '/api/logs/a/..', '/..'])('%s → 400', (url) => {
    expect(judge({ ...ok, url }, cfg)).toMatchObject({ kind: 'deny', status: 400 });
    expect(judge({ ...ok, url, upgrade: true, origin: `http://127.0.0.1:${port}` }, cfg)).toMatchObject({ kind: 'deny', status: 400 });
  });
  it.each(['/api/logs/a..b', '/api/logs/.x', '/vms/a/serial', '/?q=../x'])('%s is fine', (url) => {
    expect(judge({ ...ok, url }, cfg)).toEqual({ kind: 'allow' });
  });
});

describe('bind address', () => {
  it('only 127.0.0.1', () => {
    expect(() => assertLoopbackBind('127.0.0.1')).not.toThrow();
    for (const h of ['0.0.0.0', '::', 'localhost', '192.168.1.2', '::1']) expect(() => assertLoopbackBind(h)).toThrow(/refusing/);
  });
});
