// What Chromium really sent and received, recorded through the DevTools protocol (headers, cookies, statuses,
// refused WebSocket handshakes) — including what the page itself cannot see.
import { expect, type Page } from '@playwright/test';

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
