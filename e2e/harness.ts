/**
 * The shared e2e harness. Every spec imports `test` and `expect` from here, never from @playwright/test.
 *
 * What a run looks like (playwright.config.ts, e2e/global-setup.ts):
 *   - global setup makes a fresh lab home under /tmp (`/tmp/pve-XXXXXX/home`, short on purpose: QMP and
 *     serial unix sockets live under it and must stay under ~100 bytes), starts ONE real panel with
 *     `pvmlab serve --port <free port>` (which runs `next build` first if the pages changed; allowed up to
 *     10 min on a busy machine, PVMLAB_E2E_BUILD_TIMEOUT_MS; otherwise the URL must come within 2 min),
 *     waits for its `open: http://127.0.0.1:PORT/?token=…` line and writes a PanelInfo JSON file
 *     (`/tmp/pve-XXXXXX/panel.json`, path in env PVMLAB_E2E_STATE) for the workers;
 *   - tests run one at a time (workers: 1) against that panel: state such as VMs and the doctor's last
 *     check is shared, so a spec cleans up what it creates;
 *   - global teardown SIGTERMs the panel's process group (SIGKILL after 10 s), kills VMs still listed in
 *     the home's pids/ (QEMU daemonizes out of the group), and deletes the temp dir.
 *     PVMLAB_E2E_KEEP=1 keeps it (panel log: /tmp/pve-XXXXXX/panel.log).
 *
 * Fixtures:
 *   - `panel` (worker scope): PanelInfo — baseURL, launchUrl, port, token, home, log, pid.
 *   - `baseURL`: the panel's base URL, so `page.goto('/setup')` works.
 *   - `page`: a page whose context is already signed in (it opened the launch URL and holds the
 *     pvmlab_session cookie); it starts on the lab page. For an anonymous page use
 *     `browser.newContext()` or the `context` fixture's `newPage()`.
 *
 * Helpers (plain Node, for exact control over headers): `sessionCookie`, `rawRequest` (http.request with
 * exactly the headers given), `rawHttp` (exact bytes on a socket: malformed or missing Host, upgrades),
 * `trpcCall` / `trpcQuery`, `wsOutcome` (a WebSocket from the `ws` package: refused / closed / first message),
 * `freePort`, `termLines` (an xterm's buffer as lines), and CHROMIUM / CHROMIUM_ARGS for launching an extra browser.
 * In the browser: `watchNetwork(page)` records, through the DevTools protocol, what really went over the
 * wire — request headers and cookies sent, status codes — including for responses the page itself may
 * not see (CORS / CORP-blocked fetches, refused WebSocket handshakes).
 *
 * The browser is Debian's Chromium (/usr/bin/chromium, or PVMLAB_CHROMIUM); nothing is downloaded, and
 * only loopback addresses are used. Timeouts are generous because VM specs boot guests under TCG.
 */
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { test as base, expect, type Page } from '@playwright/test';
import WebSocket from 'ws';

export const STATE_ENV = 'PVMLAB_E2E_STATE';
export const COOKIE_NAME = 'pvmlab_session';
export const CHROMIUM = process.env.PVMLAB_CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run',
];

export interface PanelInfo {
  /** `http://127.0.0.1:PORT` (no trailing slash). */
  baseURL: string;
  /** The URL `pvmlab serve` printed, with this launch's secret. */
  launchUrl: string;
  port: number;
  /** The launch secret (the `token` query parameter). */
  token: string;
  /** The lab home (PVMLAB_HOME) of this run. */
  home: string;
  /** The temp dir holding home/, panel.json and panel.log. */
  dir: string;
  /** The panel's stdout + stderr. */
  log: string;
  /** The panel process (leader of its own process group). */
  pid: number;
}

export function readPanel(): PanelInfo {
  const file = process.env[STATE_ENV];
  if (!file) throw new Error(`${STATE_ENV} is not set: run the specs through \`npx playwright test\` (global setup starts the panel)`);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as PanelInfo;
}

/** A port that was free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Open the launch URL in this page's context (sets the session cookie); ends on the lab page. */
export async function signIn(page: Page, panel: PanelInfo): Promise<void> {
  const res = await page.goto(panel.launchUrl);
  expect(res?.status(), 'the launch URL should land on the lab page').toBe(200);
  // The redirect hands the page its key in the fragment; the page keeps it and clears the address bar.
  await expect.poll(() => page.url()).toBe(`${panel.baseURL}/`);
}

/** The second credential (DESIGN §3): the launch secret, sent by the panel's page as a header. */
export function keyHeader(panel: PanelInfo): Record<string, string> { return { 'x-pvmlab-key': panel.token }; }
/** …and as WebSocket subprotocols. */
export function keyProtocols(panel: PanelInfo): string[] { return ['pvmlab', `pvmlab.key.${panel.token}`]; }

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

export interface NetRequest {
  id: string;
  url: string;
  method: string;
  /** Headers as sent on the wire (lower-case names), when the browser reported them. */
  sent?: Record<string, string>;
  /** Names of the cookies the browser attached. */
  cookies: string[];
  status?: number;
  received?: Record<string, string>;
  /** The browser's error, e.g. net::ERR_BLOCKED_BY_RESPONSE.NotSameOrigin, net::ERR_FAILED (CORS). */
  failed?: string;
}

export interface NetSocket {
  id: string;
  url: string;
  sent?: Record<string, string>;
  /** Handshake answer: 101 when accepted, the refusal's status otherwise. */
  status?: number;
  error?: string;
  closed: boolean;
}

function lower(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
}

/** Record this page's traffic as Chromium saw it on the wire (DevTools protocol). */
export async function watchNetwork(page: Page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  const reqs = new Map<string, NetRequest>();
  const socks = new Map<string, NetSocket>();
  const req = (id: string) => {
    let r = reqs.get(id);
    if (!r) reqs.set(id, r = { id, url: '', method: '', cookies: [] });
    return r;
  };
  const sock = (id: string) => {
    let w = socks.get(id);
    if (!w) socks.set(id, w = { id, url: '', closed: false });
    return w;
  };
  cdp.on('Network.requestWillBeSent', (e) => { const r = req(e.requestId); r.url = e.request.url; r.method = e.request.method; });
  cdp.on('Network.requestWillBeSentExtraInfo', (e) => {
    const r = req(e.requestId);
    r.sent = lower(e.headers as Record<string, string>);
    r.cookies = e.associatedCookies.filter((c) => c.blockedReasons.length === 0).map((c) => c.cookie.name);
  });
  cdp.on('Network.responseReceivedExtraInfo', (e) => {
    const r = req(e.requestId);
    r.status = e.statusCode;
    r.received = lower(e.headers as Record<string, string>);
  });
  cdp.on('Network.loadingFailed', (e) => { req(e.requestId).failed = e.errorText; });
  cdp.on('Network.webSocketCreated', (e) => { sock(e.requestId).url = e.url; });
  cdp.on('Network.webSocketWillSendHandshakeRequest', (e) => { sock(e.requestId).sent = lower(e.request.headers as Record<string, string>); });
  cdp.on('Network.webSocketHandshakeResponseReceived', (e) => { sock(e.requestId).status = e.response.status; });
  cdp.on('Network.webSocketFrameError', (e) => {
    const w = sock(e.requestId);
    w.error = e.errorMessage;
    const code = /Unexpected response code: (\d{3})/.exec(e.errorMessage);
    if (code) w.status = Number(code[1]);
  });
  cdp.on('Network.webSocketClosed', (e) => { sock(e.requestId).closed = true; });
  return {
    requests: (): NetRequest[] => [...reqs.values()],
    sockets: (): NetSocket[] => [...socks.values()],
    /**
     * The first request to `url` (and method) once the server's answer reached the browser: status and
     * headers are known (even if the browser then blocked the response). DevTools reports the headers in
     * separate events that may come after the load finished or failed, hence the wait for both.
     */
    async answered(url: string, method = 'GET'): Promise<NetRequest> {
      let found: NetRequest | undefined;
      await expect.poll(() => {
        found = [...reqs.values()].find((r) => r.url === url && r.method === method && r.status !== undefined && r.sent !== undefined);
        if (found) return 'answered';
        const seen = [...reqs.values()].filter((r) => r.url === url);
        return seen.length ? JSON.stringify(seen) : 'not requested';
      }, { message: `${method} ${url} answered` }).toBe('answered');
      return found!;
    },
    /** The first socket to `url` once its handshake was answered. */
    async handshake(url: string): Promise<NetSocket> {
      let found: NetSocket | undefined;
      await expect.poll(() => {
        found = [...socks.values()].find((w) => w.url === url && w.status !== undefined);
        return !!found;
      }, { message: `WebSocket ${url} handshake answered` }).toBe(true);
      return found!;
    },
    clear() { reqs.clear(); socks.clear(); },
    detach: () => cdp.detach(),
  };
}
export type NetWatch = Awaited<ReturnType<typeof watchNetwork>>;

/** The message a tRPC client sends to subscribe to a procedure over /ws/trpc. */
export function trpcSubscribe(id: number, path: string) {
  return { id, jsonrpc: '2.0', method: 'subscription', params: { path, input: undefined } };
}

export const test = base.extend<{ page: Page }, { panel: PanelInfo }>({
  // biome-ignore lint/correctness/noEmptyPattern: Playwright reads a fixture's dependencies from this destructuring
  panel: [async ({}, use) => { await use(readPanel()); }, { scope: 'worker' }],
  baseURL: async ({ panel }, use) => { await use(panel.baseURL); },
  page: async ({ page, panel }, use) => {
    await signIn(page, panel);
    await use(page);
  },
});

export { expect };

/** Every line of an xterm's buffer (scrollback included), as text. */
export async function termLines(page: Page, label: 'serial' | 'ssh'): Promise<string[]> {
  return page.evaluate((l) => {
    const el = document.querySelector(`[data-testid="${l}-xterm"]`) as (HTMLElement & { __xterm?: import('@xterm/xterm').Terminal }) | null;
    const t = el?.__xterm;
    if (!t) return [];
    const b = t.buffer.active;
    const out: string[] = [];
    for (let i = 0; i < b.length; i++) out.push(b.getLine(i)?.translateToString(true) ?? '');
    return out;
  }, label);
}
