'use client';
// Download the whole console log as a file, byte for byte: the panel's GET /api/logs/<vm> streams the
// file as it is at that moment (same-origin, the session cookie goes with it); the browser shows progress.

export function downloadLog(name: string): void {
  const a = document.createElement('a');
  a.href = `/api/logs/${encodeURIComponent(name)}`;
  a.download = `${name}-console.log`;
  document.body.appendChild(a);
  a.click();
  a.remove();
}
