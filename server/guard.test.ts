import { describe, expect, it } from 'vitest';
import { COOKIE_NAME, assertLoopbackBind, isAllowedHost, isAllowedOrigin, judge, parseCookies } from './guard.ts';

const port = 7780;
const secret = 'S'.repeat(43);
const cfg = { port, secret };
const ok = { method: 'GET', url: '/', host: `127.0.0.1:${port}`, origin: undefined, cookie: `${COOKIE_NAME}=${secret}`, upgrade: false };

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
    expect(v).toMatchObject({ kind: 'login', location: '/vms/a?x=1' });
    if (v.kind === 'login') expect(v.cookie).toBe(`${COOKIE_NAME}=${secret}; HttpOnly; SameSite=Strict; Path=/`);
  });
  it('the clean URL never leaves the panel (no protocol-relative redirect)', () => {
    expect(judge({ ...ok, cookie: undefined, url: `/.//evil.com/?token=${secret}` }, cfg)).toMatchObject({ kind: 'login', location: '/evil.com/' });
    expect(judge({ ...ok, cookie: undefined, url: `//evil.com/x?token=${secret}` }, cfg)).toMatchObject({ kind: 'login', location: '/x' });
  });
  it('refuses a bad token, a missing cookie and a wrong cookie', () => {
    expect(judge({ ...ok, cookie: undefined, url: '/?token=nope' }, cfg)).toMatchObject({ kind: 'deny', status: 401 });
    expect(judge({ ...ok, cookie: undefined }, cfg)).toMatchObject({ kind: 'deny', status: 401 });
    expect(judge({ ...ok, cookie: `${COOKIE_NAME}=${secret}x` }, cfg)).toMatchObject({ kind: 'deny', status: 401 });
    expect(judge({ ...ok, cookie: `other=${secret}` }, cfg)).toMatchObject({ kind: 'deny', status: 401 });
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
});

describe('bind address', () => {
  it('only 127.0.0.1', () => {
    expect(() => assertLoopbackBind('127.0.0.1')).not.toThrow();
    for (const h of ['0.0.0.0', '::', 'localhost', '192.168.1.2', '::1']) expect(() => assertLoopbackBind(h)).toThrow(/refusing/);
  });
});
