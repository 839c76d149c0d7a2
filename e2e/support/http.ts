// Plain-Node requests with exact control over headers and bytes (for the guard's contract tests): raw HTTP,
// tRPC calls as the signed-in page makes them, WebSocket outcomes.
import http from 'node:http';
import net from 'node:net';
import WebSocket from 'ws';
import { COOKIE_NAME, expect, keyHeader, type PanelInfo } from './panel.ts';

export interface RawResponse { status: number; headers: http.IncomingHttpHeaders; body: string }

export interface RawRequest {
  port: number;
  path?: string;
  method?: string;
  /** Sent exactly as given. A `host` key here replaces the default; `host: null` sends no Host at all. */
  headers?: Record<string, string | null>;
  body?: string;
}

/** One HTTP/1.1 request from Node with exactly the headers given (no Host unless asked, see `headers`). */
export function rawRequest(r: RawRequest): Promise<RawResponse> {
  const headers: Record<string, string> = { host: `127.0.0.1:${r.port}` };
  for (const [k, v] of Object.entries(r.headers ?? {})) {
    if (v === null) delete headers[k.toLowerCase()];
    else headers[k.toLowerCase()] = v;
  }
  if (r.body !== undefined) headers['content-length'] = String(Buffer.byteLength(r.body));
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: r.port, path: r.path ?? '/', method: r.method ?? 'GET',
      headers, setHost: false, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(30_000, () => req.destroy(new Error(`no answer to ${r.method ?? 'GET'} ${r.path}`)));
    req.on('error', reject);
    req.end(r.body);
  });
}

/** `pvmlab_session=…` obtained the way a browser does: open the launch URL, keep the Set-Cookie. */
export async function sessionCookie(panel: PanelInfo): Promise<string> {
  const u = new URL(panel.launchUrl);
  const res = await rawRequest({ port: panel.port, path: u.pathname + u.search });
  expect(res.status, 'the launch URL should redirect').toBe(302);
  const set = res.headers['set-cookie']?.find((c) => c.startsWith(`${COOKIE_NAME}=`));
  expect(set, 'the launch URL should set the session cookie').toBeTruthy();
  return set!.split(';')[0];
}

/** A tRPC query over HTTP as the signed-in browser would send it (right Host, cookie); returns `result.data`. */
/** One tRPC call over HTTP as the signed-in page makes it (session cookie; same-origin Origin on mutations). */
export async function trpcCall<T = unknown>(panel: PanelInfo, cookie: string, kind: 'query' | 'mutation', proc: string, input?: unknown): Promise<T> {
  const res = kind === 'query'
    ? await rawRequest({ port: panel.port, path: `/api/trpc/${proc}${input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify(input))}`}`, headers: { cookie, ...keyHeader(panel) } })
    : await rawRequest({ port: panel.port, path: `/api/trpc/${proc}`, method: 'POST', body: JSON.stringify(input ?? {}),
      headers: { cookie, origin: panel.baseURL, 'content-type': 'application/json', ...keyHeader(panel) } });
  if (res.status !== 200) throw new Error(`${proc}: ${res.status} ${res.body.slice(0, 300)}`);
  return (JSON.parse(res.body) as { result: { data: T } }).result.data;
}

export function trpcQuery<T = unknown>(panel: PanelInfo, proc: string, cookie: string): Promise<T> {
  return trpcCall<T>(panel, cookie, 'query', proc);
}

export type WsOutcome =
  | { kind: 'refused'; status: number; body: string }
  | { kind: 'closed'; code: number; reason: string; messages: string[] }
  | { kind: 'message'; messages: string[] }
  | { kind: 'error'; message: string };

/**
 * Open a WebSocket from Node with exact headers and report what happened: the handshake refused (HTTP
 * status), the socket closed (close code), or the first message received (after sending `send`, if any).
 */
export function wsOutcome(url: string, headers: Record<string, string>, send?: unknown, timeoutMs = 10_000, protocols: string[] = []): Promise<WsOutcome> {
  return new Promise((resolve) => {
    const messages: string[] = [];
    const ws = new WebSocket(url, protocols, { headers, followRedirects: false, handshakeTimeout: timeoutMs });
    const timer = setTimeout(() => { done({ kind: 'error', message: `nothing within ${timeoutMs} ms` }); }, timeoutMs);
    let settled = false;
    function done(o: WsOutcome) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ws.terminate();
      resolve(o);
    }
    ws.on('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done({ kind: 'refused', status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    ws.on('open', () => { if (send !== undefined) ws.send(JSON.stringify(send)); });
    ws.on('message', (data) => {
      messages.push(String(data));
      done({ kind: 'message', messages });
    });
    ws.on('close', (code, reason) => done({ kind: 'closed', code, reason: reason.toString(), messages }));
    ws.on('error', (e) => { if (!settled) setTimeout(() => done({ kind: 'error', message: e.message }), 50); });
  });
}

export interface RawHttpResponse { status: number; statusLine: string; headers: Record<string, string>; body: string; raw: string }

/**
 * Write `request` byte for byte to the panel's socket and parse the answer's head. Ends when the server
 * closes (send `Connection: close` on plain requests) or as soon as a 101 head arrives (upgrades).
 */
export function rawHttp(port: number, request: string, timeoutMs = 10_000): Promise<RawHttpResponse> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = net.connect(port, '127.0.0.1', () => s.write(request));
    const finish = () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const end = raw.indexOf('\r\n\r\n');
      const head = end < 0 ? raw : raw.slice(0, end);
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers: Record<string, string> = {};
      for (const l of lines) {
        const i = l.indexOf(':');
        if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
      resolve({ status, statusLine, headers, body: end < 0 ? '' : raw.slice(end + 4), raw });
    };
    s.setTimeout(timeoutMs, () => s.destroy(new Error(`no complete answer within ${timeoutMs} ms to: ${request.split('\r\n')[0]}`)));
    s.on('data', (c: Buffer) => {
      chunks.push(c);
      const sofar = Buffer.concat(chunks).toString('utf8');
      if (/^HTTP\/1\.1 101 /.test(sofar) && sofar.includes('\r\n\r\n')) { s.destroy(); finish(); }
    });
    s.on('end', finish);
    s.on('error', reject);
  });
}

/** A WebSocket upgrade request for `path`, with exactly the given header lines (e.g. `Host: …`). */
export function upgradeRequest(path: string, headerLines: string[]): string {
  return [`GET ${path} HTTP/1.1`, ...headerLines, 'Connection: Upgrade', 'Upgrade: websocket',
    'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', '', ''].join('\r\n');
}

/** The message a tRPC client sends to subscribe to a procedure over /ws/trpc. */
export function trpcSubscribe(id: number, path: string) {
  return { id, jsonrpc: '2.0', method: 'subscription', params: { path, input: undefined } };
}
