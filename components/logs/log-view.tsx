'use client';
// The console log of one VM from power-on, live: follow, search (highlight, next/previous), jump to end,
// download, and a separator (plus a notice) for every boot. Large logs stay fast: only the rows in view
// are in the DOM and at most MAX_LINES lines are kept (a note says when older ones were dropped).
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { StreamBadge } from '../terminal/status-badge';
import { useFillHeight } from '../terminal/fill-height';
import { LogList } from './log-list';
import { useLogStream } from './use-log-stream';
import { downloadLog } from './download';

export const MAX_LINES = 200_000;

const btn = 'rounded-md border border-zinc-300 px-2 py-1 text-xs hover:bg-zinc-100 disabled:opacity-40 dark:border-zinc-700 dark:hover:bg-zinc-800';

function mib(n: number): string { return `${(n / (1 << 20)).toFixed(1)} MiB`; }

function localTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

export function LogView({ name }: { name: string }) {
  const stream = useLogStream(name, MAX_LINES);
  const { model, version, state, skippedBytes, liveBoots, resets } = stream;
  const [follow, setFollow] = useState(true);
  const [query, setQuery] = useState('');
  const [debounced, setDebounced] = useState('');
  /** The current search match, as an absolute line number (stays put as lines arrive or drop). */
  const [current, setCurrent] = useState<number | null>(null);
  const currentRef = useRef<number | null>(null);
  currentRef.current = current;
  const [jump, setJump] = useState<{ line: number; nonce: number } | null>(null);
  const [seenBoots, setSeenBoots] = useState(0);
  const frame = useRef<HTMLDivElement>(null);
  const search = useRef<HTMLInputElement>(null);
  useFillHeight(frame);

  useEffect(() => {
    const t = setTimeout(() => setDebounced(query), 120);
    return () => clearTimeout(t);
  }, [query]);
  // The model keeps its match list current as lines arrive (a copy per change, for React).
  const matches = useMemo(() => { model.search(debounced); return [...model.matches()]; }, [debounced, version, model]);

  /** Next/previous match. Reads the box itself (not a possibly older render's state). */
  const go = useCallback((dir: 1 | -1) => {
    const q = search.current?.value ?? '';
    setDebounced(q);
    model.search(q);
    const list = model.matches();
    if (!list.length) { setCurrent(null); return; }
    const at = currentRef.current === null ? -1 : list.indexOf(currentRef.current);
    const i = at < 0 ? (dir === 1 ? 0 : list.length - 1) : (at + dir + list.length) % list.length;
    currentRef.current = list[i];
    setCurrent(list[i]);
    setFollow(false);
    setJump({ line: list[i], nonce: Date.now() + Math.random() });
  }, [model]);

  const toEnd = () => { setFollow(true); setJump(null); };

  const onScrolled = useCallback((atBottom: boolean) => setFollow(atBottom), []);

  // Ctrl+F / "/" focus the search box (the browser's find only sees the rows in view).
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement | null;
      const typing = target && (target.tagName === 'INPUT' || target.tagName === 'TEXTAREA' || target.isContentEditable);
      if ((e.ctrlKey || e.metaKey) && e.key === 'f' || (!typing && e.key === '/')) {
        e.preventDefault();
        search.current?.focus();
        search.current?.select();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const newBoots = liveBoots.slice(seenBoots);
  const lastBoot = newBoots.at(-1);
  const dropped = model.base;

  return (
    <div className="flex w-full min-w-0 flex-col gap-2" data-testid="log-view">
      <div className="flex flex-wrap items-center gap-2">
        <StreamBadge state={state} label="logs" />
        <span className="text-xs text-zinc-500" data-testid="log-stats">
          {model.total.toLocaleString()} lines · <span data-testid="boot-count">{model.boots.length}</span> boot{model.boots.length === 1 ? '' : 's'}
        </span>
        <div className="ml-auto flex flex-wrap items-center gap-2">
          <div className="flex items-center gap-1">
            <input ref={search} type="search" value={query} placeholder="Search (Ctrl+F)" aria-label="search the log"
              data-testid="log-search" spellCheck={false}
              className="w-56 rounded-md border border-zinc-300 bg-white px-2 py-1 text-xs dark:border-zinc-700 dark:bg-zinc-900"
              onChange={(e) => { setQuery(e.target.value); setCurrent(null); currentRef.current = null; }}
              onKeyDown={(e) => {
                if (e.key === 'Enter') { e.preventDefault(); go(e.shiftKey ? -1 : 1); }
                if (e.key === 'Escape') { setQuery(''); setDebounced(''); setCurrent(null); }
              }} />
            <span className="min-w-16 text-center text-xs tabular-nums text-zinc-500" data-testid="log-search-count">
              {debounced ? `${current === null ? 0 : matches.indexOf(current) + 1} / ${matches.length}` : ''}
            </span>
            <button type="button" className={btn} onClick={() => go(-1)} disabled={!matches.length} aria-label="previous match" title="Previous (Shift+Enter)">↑</button>
            <button type="button" className={btn} onClick={() => go(1)} disabled={!matches.length} aria-label="next match" title="Next (Enter)">↓</button>
          </div>
          <label className="flex cursor-pointer items-center gap-1 text-xs">
            <input type="checkbox" checked={follow} onChange={(e) => (e.target.checked ? toEnd() : setFollow(false))} data-testid="log-follow" />
            Follow
          </label>
          <button type="button" className={btn} onClick={toEnd} data-testid="log-end">Jump to end</button>
          <button type="button" className={btn} onClick={() => { downloadLog(name).catch((e: Error) => window.alert(e.message)); }} data-testid="log-download" title="The whole file, byte for byte">
            Download
          </button>
        </div>
      </div>
      {lastBoot && (
        <div role="status" data-testid="boot-notice"
          className="flex items-center gap-3 rounded-md border border-sky-300 bg-sky-50 px-3 py-2 text-sm text-sky-900 dark:border-sky-800 dark:bg-sky-950/40 dark:text-sky-200">
          <span>The VM restarted: new boot at {localTime(lastBoot.at)}{newBoots.length > 1 ? ` (${newBoots.length} new boots)` : ''}.</span>
          <button type="button" className="underline" data-testid="boot-notice-show" onClick={() => { setFollow(false); setJump({ line: lastBoot.line, nonce: Date.now() }); }}>Show</button>
          <button type="button" className="ml-auto text-xs underline" onClick={() => setSeenBoots(liveBoots.length)}>Dismiss</button>
        </div>
      )}
      {(skippedBytes > 0 || dropped > 0) && (
        <p className="text-xs text-zinc-500" data-testid="log-dropped">
          {skippedBytes > 0 && <>The first {mib(skippedBytes)} of this log are not loaded. </>}
          {dropped > 0 && <>{dropped.toLocaleString()} older lines were dropped from view (at most {MAX_LINES.toLocaleString()} are kept). </>}
          Download has the whole file.
        </p>
      )}
      {resets > 0 && <p className="text-xs text-amber-600" data-testid="log-reset">The log file was truncated or recreated; showing it from the start.</p>}
      <div ref={frame} className="min-h-0 min-w-0 overflow-hidden rounded-md border border-zinc-800">
        {model.total === 0 && state.phase !== 'closed' ? (
          <div className="flex h-full items-center justify-center bg-zinc-950 text-sm text-zinc-500" data-testid="log-empty">
            The log is empty: it fills from power-on.
          </div>
        ) : (
          <LogList model={model} version={version} follow={follow} onScrolled={onScrolled} query={debounced}
            current={current} jump={jump} />
        )}
      </div>
    </div>
  );
}
