// The pxeboot stack's nginx JSON access logs (log_format … escape=json in pxeboot_stack/nginx.conf): one object per
// line; query values ($arg_*) arrive still percent-encoded. Read by the flight recorder and by install reports.

/** Each line of `text` that is a JSON object, in order; other lines (blank, cut off, junk) are skipped. */
export function jsonLines(text: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const o: unknown = JSON.parse(line);
      if (o && typeof o === 'object' && !Array.isArray(o)) out.push(o as Record<string, unknown>);
    } catch { /* a line nginx was still writing, or not ours */ }
  }
  return out;
}

/** A logged query value, percent-decoded ("" when absent; kept as is when it is not valid percent-encoding). */
export function queryValue(v: unknown): string {
  const s = v === undefined || v === null ? '' : String(v);
  try { return decodeURIComponent(s); } catch { return s; }
}
