'use client';
// One xterm.js terminal bound to one byte stream (StreamSocket): bytes in are written to xterm and acked
// once xterm has parsed them; keys go out as binary frames (UTF-8); the size follows the container
// (FitAddon + ResizeObserver) and is sent to the server. Copy: select (xterm copies on the browser's
// copy event) or Ctrl+Shift+C; paste: Ctrl+Shift+V, the browser's paste, or the Paste button.
// Rendering: xterm's WebGL renderer when the browser has WebGL2 (a GPU, or Chromium's software GL), else —
// or after the GL context is lost — xterm's DOM renderer (see renderer.ts).
import '@xterm/xterm/css/xterm.css';
import { useEffect, useRef, useState, type ReactNode } from 'react';
import type { Terminal } from '@xterm/xterm';
import { StreamSocket, type ControlMessage, type StreamState } from './stream-socket';
import { StreamBadge } from './status-badge';
import { useFillHeight } from './fill-height';
import { attachRenderer } from './renderer';

export interface XtermViewProps {
  /** The socket path for a (re)connect, given the terminal's current size. */
  path: (size: { cols: number; rows: number }) => string;
  /** Shown on the badge and used for test ids: `<label>-state`, `<label>-xterm`. */
  label: string;
  /** After the server's "exit", start again instead of closing? */
  reconnectAfterExit?: (msg: ControlMessage) => boolean;
  /** The socket, for callers that reconnect on outside events (the VM started). */
  onSocket?: (sock: StreamSocket | null) => void;
  onState?: (s: StreamState) => void;
  /** Extra things on the toolbar (left of the buttons). */
  toolbar?: ReactNode;
  /** A notice above the terminal (e.g. "the VM is stopped"). */
  notice?: ReactNode;
}

const THEME = {
  background: '#0b0f14', foreground: '#d6dde6', cursor: '#e6edf3', selectionBackground: '#33506e',
  black: '#1b1f24', red: '#f47067', green: '#8ddb8c', yellow: '#e0b341', blue: '#6cb6ff', magenta: '#dcbdfb',
  cyan: '#56d4dd', white: '#c9d1d9', brightBlack: '#636e7b', brightRed: '#ff938a', brightGreen: '#b4f1b4',
  brightYellow: '#f8e3a1', brightBlue: '#96d0ff', brightMagenta: '#eedcff', brightCyan: '#b3f0ff', brightWhite: '#f0f6fc',
};

async function copyText(text: string): Promise<void> {
  if (!text) return;
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // No async clipboard (permissions): the classic way, from a user gesture.
    const ta = document.createElement('textarea');
    ta.value = text;
    ta.style.position = 'fixed';
    ta.style.opacity = '0';
    document.body.appendChild(ta);
    ta.select();
    document.execCommand('copy');
    ta.remove();
  }
}

export function XtermView({ path, label, reconnectAfterExit, onSocket, onState, toolbar, notice }: XtermViewProps) {
  const frame = useRef<HTMLDivElement>(null);
  const host = useRef<HTMLDivElement>(null);
  const termRef = useRef<Terminal | null>(null);
  const [state, setState] = useState<StreamState>({ phase: 'connecting', attempt: 0 });
  const [info, setInfo] = useState<string | null>(null);
  const [failed, setFailed] = useState<string | null>(null);
  const sockRef = useRef<StreamSocket | null>(null);
  // The latest props, read by long-lived callbacks without re-creating the terminal.
  const props = useRef({ path, reconnectAfterExit, onSocket, onState });
  props.current = { path, reconnectAfterExit, onSocket, onState };
  useFillHeight(frame);

  useEffect(() => {
    let disposed = false;
    const cleanups: (() => void)[] = [];
    (async () => {
      const [{ Terminal }, { FitAddon }] = await Promise.all([import('@xterm/xterm'), import('@xterm/addon-fit')]);
      if (disposed || !host.current) return;
      // No cursor blink (xterm's default, and ttyd's): with the DOM renderer the blink is a CSS animation that
      // Chromium restyles on every frame while the terminal has focus (60 style recalcs/s, ~10× the idle
      // main-thread time), and a keystroke's echo then waits behind that frame and misses the next one:
      // keystroke → echo on screen measured ~31 ms with it, ~15 ms without (bench/README.md, P3).
      const term = new Terminal({
        cursorBlink: false, fontSize: 14, scrollback: 5000, allowProposedApi: false, convertEol: false,
        fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace',
        theme: THEME, rightClickSelectsWord: true,
      });
      const fit = new FitAddon();
      term.loadAddon(fit);
      term.open(host.current);
      termRef.current = term;
      // For tests and benchmarks: the terminal object hangs off its element (not enumerable, no global).
      Object.defineProperty(host.current, '__xterm', { value: term, configurable: true });
      const renderer = await attachRenderer(term, host.current);
      if (disposed) { renderer.dispose(); term.dispose(); termRef.current = null; return; }
      cleanups.push(renderer.dispose);
      try { fit.fit(); } catch { /* not laid out yet */ }

      const sock = new StreamSocket({
        path: () => props.current.path({ cols: term.cols, rows: term.rows }),
        onData: (bytes, done) => term.write(bytes, done),
        onControl: (msg) => {
          if (msg.t === 'info' && typeof msg.text === 'string') setInfo(msg.text);
          if (msg.t === 'exit') {
            const why = typeof msg.reason === 'string' ? msg.reason : typeof msg.code === 'number' ? `exit code ${msg.code}` : 'ended';
            term.write(`\r\n\x1b[2m[${why}]\x1b[0m\r\n`);
          }
        },
        onOpen: (again) => {
          // The server replays its recent output on every attach: start from a clean screen.
          if (again) term.reset();
          setInfo(null);
          sock.resize(term.cols, term.rows);
        },
        onState: (s) => { setState(s); props.current.onState?.(s); },
        reconnectAfterExit: (m) => props.current.reconnectAfterExit?.(m) ?? false,
      });
      sockRef.current = sock;
      props.current.onSocket?.(sock);

      const enc = new TextEncoder();
      const d1 = term.onData((d) => { sock.send(enc.encode(d)); });
      const d2 = term.onBinary((d) => { sock.send(Uint8Array.from(d, (c) => c.charCodeAt(0) & 0xff)); });
      const d3 = term.onResize(({ cols, rows }) => sock.resize(cols, rows));
      term.attachCustomKeyEventHandler((e) => {
        if (e.ctrlKey && e.shiftKey && !e.altKey && !e.metaKey) {
          if (e.code === 'KeyC') {
            if (e.type === 'keydown') { e.preventDefault(); void copyText(term.getSelection()); }
            return false;
          }
          // Let the browser fire its paste event on xterm's textarea: xterm pastes it (bracketed if asked).
          if (e.code === 'KeyV') return false;
        }
        return true;
      });

      let raf = 0;
      const refit = () => {
        cancelAnimationFrame(raf);
        raf = requestAnimationFrame(() => { try { fit.fit(); } catch { /* hidden */ } });
      };
      const ro = new ResizeObserver(refit);
      ro.observe(host.current);
      window.addEventListener('resize', refit);
      term.focus();
      cleanups.push(() => {
        cancelAnimationFrame(raf);
        ro.disconnect();
        window.removeEventListener('resize', refit);
        d1.dispose(); d2.dispose(); d3.dispose();
        sock.close();
        sockRef.current = null;
        props.current.onSocket?.(null);
        term.dispose();
        termRef.current = null;
      });
    })().catch((e: unknown) => setFailed(`the terminal could not start: ${(e as Error).message}`));
    return () => { disposed = true; for (const c of cleanups) c(); };
  }, []);

  const paste = async () => {
    const term = termRef.current;
    if (!term) return;
    try {
      term.paste(await navigator.clipboard.readText());
    } catch {
      setInfo('the browser did not allow reading the clipboard: use Ctrl+Shift+V');
    }
    term.focus();
  };

  return (
    <div className="flex w-full min-w-0 flex-col gap-2" data-testid={`${label}-view`}>
      <div className="flex min-h-8 flex-wrap items-center gap-3">
        <StreamBadge state={state} label={label} />
        {info && state.phase === 'live' && <span className="text-xs text-zinc-500" data-testid={`${label}-info`}>{info}</span>}
        {toolbar}
        <div className="ml-auto flex items-center gap-2">
          {state.phase === 'closed' && (
            <button type="button" className="rounded-md border border-zinc-300 px-2 py-1 text-xs hover:bg-zinc-100 dark:border-zinc-700 dark:hover:bg-zinc-800"
              onClick={() => sockRef.current?.reconnectNow()} data-testid={`${label}-reconnect`}>Reconnect</button>
          )}
          <button type="button" className="rounded-md border border-zinc-300 px-2 py-1 text-xs hover:bg-zinc-100 dark:border-zinc-700 dark:hover:bg-zinc-800"
            title="Copy the selection (Ctrl+Shift+C)"
            onClick={() => { const t = termRef.current; if (t) { void copyText(t.getSelection()); t.focus(); } }}>Copy</button>
          <button type="button" className="rounded-md border border-zinc-300 px-2 py-1 text-xs hover:bg-zinc-100 dark:border-zinc-700 dark:hover:bg-zinc-800"
            title="Paste from the clipboard (Ctrl+Shift+V)" onClick={() => void paste()}>Paste</button>
        </div>
      </div>
      {notice}
      {failed && <p role="alert" className="text-sm text-red-600">{failed}</p>}
      <div ref={frame} className="min-h-0 overflow-hidden rounded-md border border-zinc-800 bg-[#0b0f14] p-1">
        {/* biome-ignore lint/a11y/useKeyWithClickEvents lint/a11y/noStaticElementInteractions: a click anywhere in the frame focuses the terminal, which takes the keys itself */}
        <div ref={host} className="h-full w-full" data-testid={`${label}-xterm`} onClick={() => termRef.current?.focus()} />
      </div>
    </div>
  );
}
