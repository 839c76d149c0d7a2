'use client';
// Follow a VM's console log over /ws/logs/<vm>?offset=N into a LogModel. Starts at the last
// INITIAL_WINDOW bytes of a large file (older bytes: download), resumes from the exact byte offset after a
// reconnect, and reports boots that happen while the page is open.
import { useEffect, useRef, useState } from 'react';
import { useTRPCClient } from '../trpc';
import { LogModel, type Boot } from './log-model';
import { StreamSocket, type StreamState } from '../terminal/stream-socket';

/** How much of an existing log the page loads at first (the rest stays on disk, see download). */
export const INITIAL_WINDOW = 32 << 20;

export interface LogStream {
  model: LogModel;
  /** Bumped whenever the model changed (at most once per animation frame). */
  version: number;
  state: StreamState;
  /** Bytes at the start of the file that were never loaded (the file was large). */
  skippedBytes: number;
  /** Boots seen while the page was open (not the ones already in the file). */
  liveBoots: Boot[];
  /** The file was truncated or recreated while following. */
  resets: number;
  /** Current byte offset in the file. */
  offset: () => number;
}

export function useLogStream(name: string, maxLines = 200_000): LogStream {
  const client = useTRPCClient();
  const model = useRef<LogModel>(null as unknown as LogModel);
  model.current ??= new LogModel(maxLines);
  const [version, setVersion] = useState(0);
  const [state, setState] = useState<StreamState>({ phase: 'connecting', attempt: 0 });
  const [skippedBytes, setSkipped] = useState(0);
  const [liveBoots, setLiveBoots] = useState<Boot[]>([]);
  const [resets, setResets] = useState(0);
  const offset = useRef(0);

  useEffect(() => {
    let stopped = false;
    let sock: StreamSocket | null = null;
    let frame = 0;
    const bump = () => {
      if (frame) return;
      frame = requestAnimationFrame(() => { frame = 0; setVersion((v) => v + 1); });
    };
    const m = model.current;
    m.clear();
    (async () => {
      let size = 0;
      try {
        size = (await client.vm.log.query({ name, offset: -1, limit: 1 })).size;
      } catch (e) {
        if (!stopped) setState({ phase: 'closed', reason: (e as Error).message, attempt: 0 });
        return;
      }
      if (stopped) return;
      const liveFrom = size;
      const start = size > INITIAL_WINDOW ? size - INITIAL_WINDOW : 0;
      offset.current = start;
      let skipToNewline = start > 0;
      setSkipped(start);
      sock = new StreamSocket({
        path: () => `/ws/logs/${encodeURIComponent(name)}?offset=${offset.current}`,
        onData: (bytes, done) => {
          offset.current += bytes.length;
          let b = bytes;
          if (skipToNewline) {
            // Loaded from the middle of the file: the first line is a fragment.
            const nl = b.indexOf(10);
            if (nl < 0) { done(); return; }
            b = b.subarray(nl + 1);
            skipToNewline = false;
          }
          const boots = m.push(b);
          if (boots.length && offset.current > liveFrom) setLiveBoots((l) => [...l, ...boots]);
          done();
          bump();
        },
        onControl: (msg) => {
          if (msg.t === 'offset' && typeof msg.n === 'number') offset.current = msg.n;
          if (msg.t === 'reset') {
            m.clear();
            offset.current = 0;
            skipToNewline = false;
            setSkipped(0);
            setResets((n) => n + 1);
            bump();
          }
        },
        onState: (s) => { if (!stopped) setState(s); },
      });
    })();
    return () => {
      stopped = true;
      cancelAnimationFrame(frame);
      sock?.close();
    };
  }, [client, name]);

  return {
    model: model.current,
    version,
    state,
    skippedBytes,
    liveBoots,
    resets,
    offset: () => offset.current,
  };
}
