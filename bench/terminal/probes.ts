// In-page probes and helpers, the same in every page of the bench's browser context (ours, WeTTY, ttyd-like).
// A page's terminal is found by label: `[data-testid="<label>-xterm"]` holds the xterm Terminal as `__xterm`
// (ours: ssh, serial; the ttyd-like page: ttyd). WeTTY keeps its terminal in `window.wetty_term`: the init
// script below tags WeTTY's `#terminal` element the same way (label `wetty`), so every probe works on it.
import type { Page } from '@playwright/test';
import { VM, sleep } from './common.ts';

export const PROBE_INIT = `
window.__name = (f) => f; // tsx (esbuild keepNames) wraps functions passed to evaluate() in __name()
(() => {
  const P = { armed: false, t0: 0, send: 0, msg: 0, ack: 0, rafStart: 0, rafTs: 0, commits: 0 };
  window.__probe = P;
  // Output frames: binary (ours, ttyd-like) or socket.io's text event 'data' (WeTTY). Input: binary, or 'input'.
  const isOut = (d) => typeof d !== 'string' || d.startsWith('42["data"');
  const isIn = (d) => typeof d !== 'string' || d.startsWith('42["input"');
  const W = window.WebSocket;
  const send = W.prototype.send;
  W.prototype.send = function (d) {
    if (P.armed) {
      const now = performance.now();
      if (typeof d === 'string' && (d.includes('"ack"') || d.includes('"commit"'))) { if (!P.ack) P.ack = now; }
      else if (isIn(d) && !P.send) P.send = now;
    }
    return send.call(this, d);
  };
  window.WebSocket = class extends W {
    constructor(...a) {
      super(...a);
      this.addEventListener('message', (ev) => { if (P.armed && P.send && !P.msg && isOut(ev.data)) P.msg = performance.now(); });
    }
  };
  const raf = window.requestAnimationFrame.bind(window);
  window.requestAnimationFrame = (cb) => raf((ts) => { P.rafStart = performance.now(); P.rafTs = ts; cb(ts); });
  // React reports every commit to the devtools hook, production builds included.
  window.__REACT_DEVTOOLS_GLOBAL_HOOK__ = {
    supportsFiber: true, isDisabled: false, renderers: new Map(),
    inject(r) { const id = this.renderers.size + 1; this.renderers.set(id, r); return id; },
    onCommitFiberRoot() { P.commits++; }, onCommitFiberUnmount() {}, onPostCommitFiberRoot() {}, onScheduleFiberRoot() {}, checkDCE() {},
  };
  // WeTTY: window.wetty_term = term once connected; hang it off #terminal like the other pages do.
  let wt;
  Object.defineProperty(window, 'wetty_term', { configurable: true, get: () => wt, set: (t) => {
    wt = t;
    const el = document.getElementById('terminal');
    if (el && t) { el.dataset.testid = 'wetty-xterm'; Object.defineProperty(el, '__xterm', { value: t, configurable: true }); }
  } });
})();
`;

/** The last `n` lines up to the cursor of a page's terminal. */
export async function lastLines(page: Page, label: string, n = 5): Promise<string[]> {
  return page.evaluate(([l, k]) => {
    const t = (document.querySelector(`[data-testid="${l}-xterm"]`) as unknown as { __xterm: import('@xterm/xterm').Terminal }).__xterm;
    const b = t.buffer.active;
    const out: string[] = [];
    for (let y = Math.max(0, b.baseY + b.cursorY - (k as number) + 1); y <= b.baseY + b.cursorY; y++) out.push(b.getLine(y)?.translateToString(true) ?? '');
    return out;
  }, [label, n] as const);
}

/** Wait for the guest's shell prompt (`bench-term:…#`) on the terminal's last lines. */
export async function waitPrompt(page: Page, label: string, ms = 120_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if ((await lastLines(page, label, 2).catch(() => [])).some((l) => l.startsWith(`${VM}:`) && l.trimEnd().endsWith('#'))) return;
    await sleep(300);
  }
  throw new Error(`no shell prompt in the ${label} terminal; last lines: ${JSON.stringify(await lastLines(page, label, 5).catch(() => []))}`);
}

export interface TermInfo { cols: number; rows: number; cursorBlink: boolean; fontSize: number; renderer: 'webgl' | 'dom'; reactCommitsSinceLoad: number }

/** The terminal's size, options and renderer (a WebGL canvas in the screen, or DOM rows); React commits since load (0 on plain pages). */
export async function termInfo(page: Page, label: string): Promise<TermInfo> {
  return page.evaluate((l) => {
    const el = document.querySelector(`[data-testid="${l}-xterm"]`) as HTMLElement;
    const t = (el as unknown as { __xterm: import('@xterm/xterm').Terminal }).__xterm;
    const commits = (window as unknown as { __probe: { commits: number } }).__probe.commits;
    const renderer = el.querySelector('.xterm-screen canvas') ? 'webgl' as const : 'dom' as const;
    return { cols: t.cols, rows: t.rows, cursorBlink: !!t.options.cursorBlink, fontSize: t.options.fontSize ?? 0, renderer, reactCommitsSinceLoad: commits };
  }, label);
}

export async function setOption(page: Page, label: string, key: 'cursorBlink', value: boolean): Promise<void> {
  await page.evaluate(([l, k, v]) => {
    const t = (document.querySelector(`[data-testid="${l}-xterm"]`) as unknown as { __xterm: import('@xterm/xterm').Terminal }).__xterm;
    (t.options as Record<string, unknown>)[k as string] = v;
  }, [label, key, value] as const);
}

export interface IdleCost { seconds: number; styleRecalcsPerSec: number; layoutsPerSec: number; mainThreadTaskMsPerSec: number }

/** The renderer's main-thread work while the focused terminal sits idle (CDP Performance metrics). */
export async function idleCost(page: Page, label: string, ms: number): Promise<IdleCost> {
  await page.bringToFront();
  await page.getByTestId(`${label}-xterm`).click();
  const cdp = await page.context().newCDPSession(page);
  try {
    await cdp.send('Performance.enable');
    const get = async () => Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value])) as Record<string, number>;
    await sleep(1000);
    const a = await get();
    await sleep(ms);
    const z = await get();
    const s = ms / 1000;
    const per = (k: string, f = 1) => Math.round(((z[k] - a[k]) * f / s) * 10) / 10;
    return { seconds: s, styleRecalcsPerSec: per('RecalcStyleCount'), layoutsPerSec: per('LayoutCount'), mainThreadTaskMsPerSec: per('TaskDuration', 1000) };
  } finally {
    await cdp.detach().catch(() => {});
  }
}
