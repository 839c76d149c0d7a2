// Host / Origin / token rules, used by every request and every upgrade (DESIGN §3).
import crypto from 'node:crypto';

export const COOKIE_NAME = 'pvmlab_session';
export const TOKEN_PARAM = 'token';
/** The second credential (DESIGN §3): the launch secret, kept by the panel's page and sent as this header… */
export const KEY_HEADER = 'x-pvmlab-key';
/** …or, on WebSockets (browsers cannot set headers there), as the subprotocol `pvmlab.key.<secret>` next to `pvmlab`. */
export const WS_PROTOCOL = 'pvmlab';
export const WS_KEY_PREFIX = 'pvmlab.key.';
/** The launch redirect hands the key to the page in the URL fragment (never sent to a server). */
export const KEY_FRAGMENT = 'pvmlab-key';

/**
 * secret: the launch secret (launch URL, then the page's key); cookieSecret: the cookie's value. They differ,
 * so the cookie — which every port of 127.0.0.1 receives — is never enough on its own.
 */
export interface GuardConfig { port: number; secret: string; cookieSecret: string }

/** Next's dev endpoints that *do* something: never reachable through the panel, dev mode included. */
export const NEXT_DEV_ACTIONS = ['/__nextjs_attach-nodejs-inspector', '/__nextjs_launch-editor', '/__nextjs_restart_dev'];

export type Verdict =
  | { kind: 'allow' }
  | { kind: 'login'; location: string; cookie: string }
  | { kind: 'deny'; status: 403 | 401 | 400; reason: string };

export function allowedHosts(port: number): string[] {
  return [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`];
}

export function allowedOrigins(port: number): string[] {
  return allowedHosts(port).map((h) => `http://${h}`);
}

/** Exact match only: no case folding, no trailing dots, no suffixes. */
export function isAllowedHost(host: string | undefined, port: number): boolean {
  return typeof host === 'string' && allowedHosts(port).includes(host);
}

export function isAllowedOrigin(origin: string | undefined, port: number): boolean {
  return typeof origin === 'string' && allowedOrigins(port).includes(origin);
}

export function newSecret(): string {
  return crypto.randomBytes(32).toString('base64url');
}

function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && crypto.timingSafeEqual(ab, bb);
}

export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header) return out;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    const k = part.slice(0, i).trim();
    if (k && !(k in out)) out[k] = part.slice(i + 1).trim();
  }
  return out;
}

/** Every value of one cookie name, in order (a page on another port can plant a decoy with a longer Path). */
export function cookieValues(header: string | undefined, name: string): string[] {
  if (!header) return [];
  const out: string[] = [];
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i >= 0 && part.slice(0, i).trim() === name) out.push(part.slice(i + 1).trim());
  }
  return out;
}

/** Any of the session cookies sent matches (a planted `pvmlab_session=junk; Path=/api` cannot lock the user out). */
export function hasSession(cookieHeader: string | undefined, cookieSecret: string): boolean {
  return cookieValues(cookieHeader, COOKIE_NAME).slice(0, 16).some((v) => safeEqual(v, cookieSecret));
}

/** The key from the header, or from a WebSocket subprotocol offer. */
export function keyOf(headers: Record<string, string | string[] | undefined>): string | undefined {
  const h = headers[KEY_HEADER];
  if (typeof h === 'string') return h;
  const protos = headers['sec-websocket-protocol'];
  if (typeof protos !== 'string') return undefined;
  return protos.split(',').map((p) => p.trim()).find((p) => p.startsWith(WS_KEY_PREFIX))?.slice(WS_KEY_PREFIX.length);
}

export interface RequestFacts {
  method: string;
  url: string;
  host: string | undefined;
  origin: string | undefined;
  cookie: string | undefined;
  upgrade: boolean;
  /** X-Pvmlab-Key header or the WebSocket key subprotocol. */
  key?: string;
  /** Sec-Fetch-Site / Sec-Fetch-Mode as the browser sent them (absent from non-browser clients). */
  fetchSite?: string;
  fetchMode?: string;
}

/** Facts of a Node request for judge(). */
export function factsOf(req: { method?: string; url?: string; headers: Record<string, string | string[] | undefined> }, upgrade: boolean): RequestFacts {
  const h = req.headers;
  const one = (v: string | string[] | undefined) => (typeof v === 'string' ? v : undefined);
  return { method: req.method ?? 'GET', url: req.url ?? '/', host: one(h.host), origin: one(h.origin), cookie: one(h.cookie), upgrade,
    key: keyOf(h), fetchSite: one(h['sec-fetch-site']), fetchMode: one(h['sec-fetch-mode']) };
}

/** Requests that need the key as well as the cookie: the API, the sockets, and anything but GET/HEAD. */
function needsKey(pathname: string, safeMethod: boolean, upgrade: boolean): boolean {
  if (upgrade) return !pathname.startsWith('/_next/'); // Next's dev HMR socket cannot send it (dev only, read-only)
  return !safeMethod || pathname.startsWith('/api/') || pathname.startsWith('/ws/');
}

/** A `.` or `..` segment (also as %2e): the URL parser would resolve it, so a prefix check on the raw path lies. */
export function hasDotSegment(rawUrl: string): boolean {
  const p = rawUrl.split(/[?#]/, 1)[0];
  return p.split(/\/|%2f|\\/i).some((s) => /^(\.|%2e){1,2}$/i.test(s));
}

/** The whole decision for one request or upgrade. Pure. */
export function judge(req: RequestFacts, cfg: GuardConfig): Verdict {
  if (!isAllowedHost(req.host, cfg.port)) {
    return { kind: 'deny', status: 403, reason: 'Host header not allowed' };
  }
  if (hasDotSegment(req.url)) {
    return { kind: 'deny', status: 400, reason: 'path has a "." or ".." segment: ask for the normalised path' };
  }
  const safeMethod = req.method === 'GET' || req.method === 'HEAD';
  if (req.upgrade || !safeMethod) {
    if (!isAllowedOrigin(req.origin, cfg.port)) {
      return { kind: 'deny', status: 403, reason: 'Origin not allowed' };
    }
  } else if (req.origin !== undefined && !isAllowedOrigin(req.origin, cfg.port)) {
    // A cross-origin GET that announces itself (fetch/XHR with CORS mode) is refused too.
    return { kind: 'deny', status: 403, reason: 'Origin not allowed' };
  }
  const url = new URL(req.url, `http://${req.host}`);
  // Next's dev endpoints: the ones that act are never served; the rest only to the panel's own page.
  if (url.pathname.startsWith('/__next')) {
    if (NEXT_DEV_ACTIONS.some((p) => url.pathname === p || url.pathname.startsWith(p + '/'))) {
      return { kind: 'deny', status: 403, reason: 'Next dev endpoint not reachable through the panel' };
    }
    if (req.fetchSite !== 'same-origin') return { kind: 'deny', status: 403, reason: 'Next dev endpoint: only from the panel\'s own page (Sec-Fetch-Site: same-origin)' };
  }
  // A GET a browser makes for another origin's page (<img>, <script>, fetch no-cors) is never honoured;
  // a top-level navigation is (it only shows a page; pages and the API do nothing on GET without the key).
  if (safeMethod && !req.upgrade && (req.fetchSite === 'same-site' || req.fetchSite === 'cross-site') && req.fetchMode !== 'navigate') {
    return { kind: 'deny', status: 403, reason: 'cross-origin request refused (Sec-Fetch-Site)' };
  }
  const token = url.searchParams.get(TOKEN_PARAM);
  if (token !== null && !req.upgrade && safeMethod) {
    if (!safeEqual(token, cfg.secret)) return { kind: 'deny', status: 401, reason: 'launch token is not valid (it changes every launch)' };
    url.searchParams.delete(TOKEN_PARAM);
    // One leading slash only: `//evil.com/` would be a protocol-relative redirect off the panel.
    const location = '/' + url.pathname.replace(/^\/+/, '') + (url.searchParams.size ? `?${url.searchParams.toString()}` : '');
    // The key goes to the page in the fragment: the browser keeps it, no server (and no log) ever sees it.
    return { kind: 'login', location: `${location}#${KEY_FRAGMENT}=${cfg.secret}`, cookie: sessionCookie(cfg.cookieSecret) };
  }
  if (!hasSession(req.cookie, cfg.cookieSecret)) {
    return { kind: 'deny', status: 401, reason: 'no session: open the launch URL printed by `pvmlab serve`' };
  }
  if (needsKey(url.pathname, safeMethod, req.upgrade) && !(typeof req.key === 'string' && safeEqual(req.key, cfg.secret))) {
    return { kind: 'deny', status: 401, reason: 'no panel key: open the launch URL again (the cookie alone is not enough)' };
  }
  return { kind: 'allow' };
}

export function sessionCookie(cookieSecret: string): string {
  return `${COOKIE_NAME}=${cookieSecret}; HttpOnly; SameSite=Strict; Path=/`;
}

export const SECURITY_HEADERS: Record<string, string> = {
  'X-Frame-Options': 'DENY',
  'Content-Security-Policy': "frame-ancestors 'none'",
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/** Refuse to listen anywhere but loopback IPv4. */
export function assertLoopbackBind(host: string): void {
  if (host !== '127.0.0.1') {
    throw new Error(`refusing to listen on ${host}: pvmlab only listens on 127.0.0.1 (it can open shells on your VMs)`);
  }
}
