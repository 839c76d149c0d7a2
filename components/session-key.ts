'use client';
// The panel's second credential (DESIGN §3): the launch secret, handed to the page in the URL fragment by the
// launch redirect and kept in this origin's localStorage (other ports are other origins: they can neither
// read it nor receive it, unlike the cookie). Sent as a header on HTTP and as a subprotocol on WebSockets.
export const KEY_HEADER = 'x-pvmlab-key';
const STORE = 'pvmlab.key';
const FRAGMENT = /(?:^#|&)pvmlab-key=([A-Za-z0-9_-]+)/;

/** The key: taken from the fragment once (then removed from the address bar), else from storage. */
export function sessionKey(): string {
  if (typeof window === 'undefined') return '';
  const m = FRAGMENT.exec(location.hash);
  if (m) {
    try { localStorage.setItem(STORE, m[1]); } catch { /* storage off: this page still has it below */ }
    memory = m[1];
    history.replaceState(history.state, '', location.pathname + location.search);
  }
  // Storage first on every call: after a relaunch, the tab that opened the new launch URL renews it for all tabs.
  try { memory = localStorage.getItem(STORE) ?? memory; } catch { /* storage off: keep this page's own */ }
  return memory;
}
let memory = '';

export function keyHeaders(): Record<string, string> { return { [KEY_HEADER]: sessionKey() }; }

/** Subprotocols for a panel WebSocket: the server answers `pvmlab` and never echoes the key. */
export function keyProtocols(): string[] { return ['pvmlab', `pvmlab.key.${sessionKey()}`]; }

/** A WebSocket that always offers the key (for libraries that construct sockets themselves). */
export function keyedWebSocket(): typeof WebSocket {
  return class KeyedWebSocket extends WebSocket {
    constructor(url: string | URL) { super(url, keyProtocols()); }
  };
}
