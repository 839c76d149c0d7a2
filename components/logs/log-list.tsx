'use client';
// The lines of a LogModel, virtualized: a spacer as tall as all lines, and only the rows in (and just
// around) the viewport in the DOM. Fixed row height, no wrapping (long lines scroll sideways).
import { useEffect, useLayoutEffect, useRef, useState, type ReactNode } from 'react';
import { BOOT_MARKER, type LogModel } from './log-model';

export const ROW_PX = 18;
const OVERSCAN = 20;
/** Widest line (in characters) the horizontal scroll accounts for. */
const MAX_WIDTH_CH = 4000;

export interface LogListProps {
  model: LogModel;
  version: number;
  follow: boolean;
  /** The user scrolled: are we at the bottom now? */
  onScrolled: (atBottom: boolean) => void;
  query: string;
  /** The current search match (absolute line). */
  current: number | null;
  /** Scroll a line into the middle of the view when this changes. */
  jump: { line: number; nonce: number } | null;
}

function highlight(text: string, q: string, current: boolean): ReactNode {
  if (!q) return text;
  const lower = text.toLowerCase();
  const out: ReactNode[] = [];
  let at = 0;
  for (let i = lower.indexOf(q); i >= 0; i = lower.indexOf(q, i + q.length)) {
    if (i > at) out.push(text.slice(at, i));
    out.push(<mark key={i} className={current ? 'rounded-sm bg-orange-400 text-black' : 'rounded-sm bg-yellow-300 text-black'}>{text.slice(i, i + q.length)}</mark>);
    at = i + q.length;
  }
  if (at < text.length) out.push(text.slice(at));
  return out;
}

function localTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

export function LogList({ model, version, follow, onScrolled, query, current, jump }: LogListProps) {
  const ref = useRef<HTMLDivElement>(null);
  const [view, setView] = useState({ top: 0, height: 600 });
  const lastBase = useRef(model.base);
  const programmatic = useRef(false);
  const base = model.base;
  const count = model.total - base;
  const q = query.toLowerCase();
  /** Scroll by program; the scroll event it causes (if any) is not the user's. */
  const scrollTo = (el: HTMLDivElement, top: number) => {
    const before = el.scrollTop;
    el.scrollTop = top;
    if (el.scrollTop !== before) programmatic.current = true;
  };

  // New lines: stay at the bottom when following; when older lines were dropped, keep what is in view.
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const dropped = model.base - lastBase.current;
    lastBase.current = model.base;
    if (follow) scrollTo(el, el.scrollHeight);
    else if (dropped > 0) scrollTo(el, Math.max(0, el.scrollTop - dropped * ROW_PX));
    setView({ top: el.scrollTop, height: el.clientHeight });
  }, [version, follow, model]);

  useEffect(() => {
    const el = ref.current;
    if (!el || !jump) return;
    const i = jump.line - model.base;
    scrollTo(el, Math.max(0, i * ROW_PX - el.clientHeight / 2 + ROW_PX / 2));
    setView({ top: el.scrollTop, height: el.clientHeight });
  }, [jump, model]);

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setView({ top: el.scrollTop, height: el.clientHeight }));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const onScroll = () => {
    const el = ref.current;
    if (!el) return;
    setView({ top: el.scrollTop, height: el.clientHeight });
    if (programmatic.current) { programmatic.current = false; return; }
    onScrolled(el.scrollTop + el.clientHeight >= el.scrollHeight - ROW_PX);
  };

  const first = Math.max(0, Math.floor(view.top / ROW_PX) - OVERSCAN);
  const last = Math.min(count, Math.ceil((view.top + view.height) / ROW_PX) + OVERSCAN);
  const gutter = Math.max(4, String(model.total).length) + 1;
  const rows: ReactNode[] = [];
  for (let i = first; i < last; i++) {
    const n = base + i;
    const text = model.line(n) ?? '';
    const boot = BOOT_MARKER.exec(text);
    const isCurrent = n === current;
    rows.push(
      <div key={n} data-line={n} style={{ top: i * ROW_PX, height: ROW_PX, lineHeight: `${ROW_PX}px` }}
        className={`absolute left-0 right-0 flex whitespace-pre ${isCurrent ? 'bg-orange-500/20' : ''}`}>
        <span className="sticky left-0 shrink-0 select-none bg-zinc-950 pr-3 text-right text-zinc-600" style={{ width: `${gutter + 1}ch` }}>{n + 1}</span>
        {boot ? (
          <span data-testid="boot-separator" className="flex-1 border-t border-sky-500/70 font-semibold text-sky-300" title={text}>
            {highlight(`── new boot at ${localTime(boot[1])} ──`, q, isCurrent)}
          </span>
        ) : (
          <span className="text-zinc-200">{highlight(text, q, isCurrent)}</span>
        )}
      </div>,
    );
  }
  const width = Math.min(MAX_WIDTH_CH, model.longest) + gutter + 4;
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard (WCAG 2.1.1)
    <div ref={ref} onScroll={onScroll} tabIndex={0} data-testid="log-lines" data-line-count={model.total} data-first-line={base}
      className="mono relative h-full overflow-auto bg-zinc-950 text-xs focus:outline-none" aria-label="console log" role="log">
      <div className="relative" style={{ height: count * ROW_PX, minWidth: `${width}ch` }}>{rows}</div>
    </div>
  );
}
