'use client';
// Download the whole console log as a file, byte for byte: the panel's GET /api/logs/<vm> streams the
// file as it is at that moment. It needs the panel key (a header), so it is fetched and saved as a blob.
import { keyHeaders } from '../session-key';

export async function downloadLog(name: string): Promise<void> {
  const r = await fetch(`/api/logs/${encodeURIComponent(name)}`, { headers: keyHeaders() });
  if (!r.ok) throw new Error(`download failed: ${r.status} ${(await r.text()).trim()}`);
  const url = URL.createObjectURL(await r.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = `${name}-console.log`;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
