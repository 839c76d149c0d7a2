'use client';
// The last lines of a VM's console log: the tail from vm.log (offset -4096), refetched on every VM event,
// then followed live on /ws/logs/<vm> from where that read ended (pushed on file change, acked bytes).
import { stripAnsi } from '@/components/logs/log-model';
import { useEffect, useRef, useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { useTRPC } from '../trpc';
import { keyProtocols } from '../session-key';

const TAIL_BYTES = 4096;
const KEEP_CHARS = 12_000;
const SHOW_LINES = 40;

/** Console output as text: no ANSI escapes, no carriage returns. */
export function cleanConsole(s: string): string {
  return stripAnsi(s).replace(/\r/g, '');
}

export function useLogTail(name: string): { text: string; loading: boolean; error: string | null; live: boolean } {
  const trpc = useTRPC();
  const q = useQuery(trpc.vm.log.queryOptions({ name, offset: -TAIL_BYTES, limit: TAIL_BYTES }));
  const [text, setText] = useState('');
  const [live, setLive] = useState(false);
  const data = q.data;

  useEffect(() => {
    if (!data) return;
    let start = data.data;
    // Read from the middle of the file: drop the partial first line.
    if (data.size > TAIL_BYTES) start = start.slice(start.indexOf('\n') + 1);
    setText(start);
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws/logs/${encodeURIComponent(name)}?offset=${data.offset}`;
    const ws = new WebSocket(url, keyProtocols());
    ws.binaryType = 'arraybuffer';
    const decoder = new TextDecoder();
    ws.onopen = () => setLive(true);
    ws.onclose = () => setLive(false);
    ws.onmessage = (m) => {
      if (typeof m.data === 'string') {
        try { if ((JSON.parse(m.data) as { t?: string }).t === 'reset') setText(''); } catch { /* not control */ }
        return;
      }
      const bytes = new Uint8Array(m.data as ArrayBuffer);
      const chunk = decoder.decode(bytes, { stream: true });
      setText((t) => (t + chunk).slice(-KEEP_CHARS));
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ t: 'ack', n: bytes.length }));
    };
    return () => { ws.onclose = null; ws.close(); setLive(false); };
  }, [data, name]);

  return { text, loading: q.isPending, error: q.error ? q.error.message : null, live };
}

export function LogTail({ name }: { name: string }) {
  const { text, loading, error, live } = useLogTail(name);
  const lines = cleanConsole(text).split('\n');
  if (lines.at(-1) === '') lines.pop();
  const shown = lines.slice(-SHOW_LINES);
  const body = loading ? 'Reading the console log…' : shown.length ? shown.join('\n') : 'No console output yet. Start the VM to see it boot.';
  const pre = useRef<HTMLPreElement>(null);
  // Stay at the newest line, unless the reader scrolled up.
  const pinned = useRef(true);
  useEffect(() => { if (pre.current && pinned.current) pre.current.scrollTop = pre.current.scrollHeight; }, [body]);
  return (
    <div className="grid gap-1">
      <div className="flex items-center gap-2 text-xs text-zinc-500">
        <span className={`h-2 w-2 rounded-full ${live ? 'bg-emerald-500' : 'bg-zinc-400'}`} aria-hidden />
        <span data-testid="log-live">{live ? 'following' : 'not following'}</span>
        <span>· last {SHOW_LINES} lines</span>
      </div>
      {error ? <p className="text-sm text-red-600">{error}</p> : (
        // biome-ignore lint/a11y/noNoninteractiveTabindex lint/a11y/useAriaPropsSupportedByRole: a scrollable region must be reachable by keyboard (WCAG 2.1.1) and named
        <pre ref={pre} data-testid="vm-log-tail" tabIndex={0}
          onScroll={(e) => { const el = e.currentTarget; pinned.current = el.scrollHeight - el.scrollTop - el.clientHeight < 8; }} aria-label="recent console output"
          className="mono max-h-80 overflow-auto whitespace-pre-wrap break-all rounded-md bg-zinc-950 p-3 text-xs leading-5 text-zinc-100 focus:outline-none focus-visible:ring-2 focus-visible:ring-sky-500">
          {body}
        </pre>
      )}
    </div>
  );
}
