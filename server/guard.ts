// Host / Origin / token rules, used by every request and every upgrade (DESIGN §3).
import crypto from 'node:crypto';

export const COOKIE_NAME = 'pvmlab_session';
export const TOKEN_PARAM = 'token';

export interface GuardConfig { port: number; secret: string }

export type Verdict =
  | { kind: 'allow' }
  | { kind: 'login'; location: string; cookie: string }
  | { kind: 'deny'; status: 403 | 401; reason: string };

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

export function hasSession(cookieHeader: string | undefined, secret: string): boolean {
  const v = parseCookies(cookieHeader)[COOKIE_NAME];
  return typeof v === 'string' && safeEqual(v, secret);
}

export interface RequestFacts {
  method: string;
  url: string;
  host: string | undefined;
  origin: string | undefined;
  cookie: string | undefined;
  upgrade: boolean;
}

/** The whole decision for one request or upgrade. Pure. */
export function judge(req: RequestFacts, cfg: GuardConfig): Verdict {
  if (!isAllowedHost(req.host, cfg.port)) {
    return { kind: 'deny', status: 403, reason: 'Host header not allowed' };
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
  const token = url.searchParams.get(TOKEN_PARAM);
  if (token !== null && !req.upgrade && safeMethod) {
    if (!safeEqual(token, cfg.secret)) return { kind: 'deny', status: 401, reason: 'launch token is not valid (it changes every launch)' };
    url.searchParams.delete(TOKEN_PARAM);
    // One leading slash only: `//evil.com/` would be a protocol-relative redirect off the panel.
    const location = '/' + url.pathname.replace(/^\/+/, '') + (url.searchParams.size ? `?${url.searchParams.toString()}` : '');
    return { kind: 'login', location, cookie: sessionCookie(cfg.secret) };
  }
  if (!hasSession(req.cookie, cfg.secret)) {
    return { kind: 'deny', status: 401, reason: 'no session: open the launch URL printed by `pvmlab serve`' };
  }
  return { kind: 'allow' };
}

export function sessionCookie(secret: string): string {
  return `${COOKIE_NAME}=${secret}; HttpOnly; SameSite=Strict; Path=/`;
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
