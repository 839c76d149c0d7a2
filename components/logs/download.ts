'use client';
// Download the whole console log as a file. If the page holds every byte of it, those bytes; otherwise
// page through the tRPC `vm.log` query (1 MiB at a time) from offset 0 to the size seen at the start.
import type { useTRPCClient } from '../trpc';

type Client = ReturnType<typeof useTRPCClient>;
const PAGE = 1 << 20;

export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The whole log through the API; `progress` gets (bytes, total). */
export async function fetchWholeLog(client: Client, name: string, progress: (done: number, total: number) => void, signal?: AbortSignal): Promise<Blob> {
  const parts: string[] = [];
  let offset = 0;
  let total = Infinity;
  while (offset < total) {
    if (signal?.aborted) throw new Error('download cancelled');
    const r = await client.vm.log.query({ name, offset, limit: PAGE }, { signal });
    if (total === Infinity) total = r.size;
    if (r.offset <= offset) break; // the file shrank meanwhile
    parts.push(r.data);
    offset = r.offset;
    progress(offset, total);
  }
  return new Blob(parts, { type: 'text/plain' });
}
