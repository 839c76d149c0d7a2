// Download a file with progress, SHA-256 verification and resume. Executor: Node's fetch, no shell.
//
// The bytes go to `<dest>.part`; only a verified file is ever renamed to dest. A cut connection or a
// cancel keeps the .part, and the next call resumes it with a Range request.
import { createHash, type Hash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseSha256Sums } from './catalogue.ts';

export interface DownloadProgress {
  /** Bytes of the file on disk so far (a resumed part counts). */
  bytes: number;
  total: number | null;
  /** Bytes per second, smoothed. */
  rate: number;
  etaSeconds: number | null;
}

export interface DownloadOptions {
  url: string;
  dest: string;
  /** Expected SHA-256 of the whole file, hex. */
  sha256: string;
  signal?: AbortSignal;
  onProgress?: (p: DownloadProgress) => void;
  fetchImpl?: typeof fetch;
  /** Minimum time between progress reports (default 250 ms). */
  progressIntervalMs?: number;
}

export class DownloadError extends Error {}

/** Thrown when the caller's AbortSignal fires. The .part is kept for a later resume. */
export class DownloadAbortedError extends Error {
  override name = 'AbortError';
}

export function partPath(dest: string): string {
  return dest + '.part';
}

export async function downloadFile(opts: DownloadOptions): Promise<void> {
  const { url, dest, signal } = opts;
  const expected = opts.sha256.trim().toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(expected)) throw new DownloadError(`not a SHA-256 hash (64 hex digits): '${opts.sha256}'`);
  const fetchImpl = opts.fetchImpl ?? fetch;
  const part = partPath(dest);
  fs.mkdirSync(path.dirname(path.resolve(dest)), { recursive: true });
  const aborted = () => new DownloadAbortedError(`download of ${url} was cancelled; the partial file ${part} ` +
    `(${fileSize(part) ?? 0} bytes) is kept and the next download resumes from it`);
  if (signal?.aborted) throw aborted();

  // At most two passes: a resume, then a fresh start if the server cannot continue the part we have.
  for (let resume = true; ; resume = false) {
    const offset = resume ? fileSize(part) ?? 0 : 0;
    let hash = createHash('sha256');
    if (offset > 0) await hashFile(part, hash, signal, aborted);

    const headers: Record<string, string> = { 'accept-encoding': 'identity' };
    if (offset > 0) headers.range = `bytes=${offset}-`;
    let res: Response;
    try {
      res = await fetchImpl(url, { headers, signal, redirect: 'follow' });
    } catch (e) {
      if (signal?.aborted) throw aborted();
      throw new DownloadError(`cannot download ${url}: ${errorDetail(e)} — check the network connection (and proxy settings), then try again`);
    }

    if (res.status === 416 && offset > 0) {
      // Nothing left to send: the part is complete, or it is longer than the file (bad).
      await discard(res);
      if (hash.digest('hex') === expected) {
        opts.onProgress?.({ bytes: offset, total: offset, rate: 0, etaSeconds: 0 });
        commit(part, dest);
        return;
      }
      fs.rmSync(part, { force: true });
      continue;
    }
    if (!res.ok) {
      await discard(res);
      throw new DownloadError(`HTTP ${res.status} for ${url}` + (res.status === 404 ? ' — the file is not on the server (has the URL changed?)' : ''));
    }

    let start = 0;
    let total = numberHeader(res.headers.get('content-length'));
    if (offset > 0 && res.status === 206) {
      const range = parseContentRange(res.headers.get('content-range'));
      if (!range || range.start !== offset) { await discard(res); continue; }
      start = offset;
      total = range.total;
    }
    // 200 to a Range request: the server will not resume — take the full body from zero.
    if (start === 0 && offset > 0) hash = createHash('sha256');

    const fh = await fs.promises.open(part, start === 0 ? 'w' : 'a', 0o644);
    const meter = new ProgressMeter(start, total, opts.onProgress, opts.progressIntervalMs ?? 250);
    let bytes = start;
    try {
      if (!res.body) throw new Error('the response has no body');
      const reader = res.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        await writeAll(fh, value);
        hash.update(value);
        bytes += value.length;
        meter.update(bytes);
      }
      await fh.sync();
    } catch (e) {
      if (signal?.aborted) throw aborted();
      throw new DownloadError(`download of ${url} was interrupted after ${bytes} bytes: ${errorDetail(e)} — ` +
        'run it again to resume (the partial file is kept)');
    } finally {
      await fh.close();
    }
    if (total !== null && bytes < total) {
      throw new DownloadError(`download of ${url} ended early (${bytes} of ${total} bytes) — run it again to resume (the partial file is kept)`);
    }
    meter.finish(bytes);

    const got = hash.digest('hex');
    if (got !== expected) {
      fs.rmSync(part, { force: true });
      throw new DownloadError(`checksum mismatch for ${url}: expected ${expected}, got ${got} — the download was removed; try again`);
    }
    commit(part, dest);
    return;
  }
}

/** The expected hash of fileName, from a SHA256SUMS file on the server. */
export async function fetchSha256(checksumsUrl: string, fileName: string, signal?: AbortSignal, fetchImpl: typeof fetch = fetch): Promise<string> {
  let res: Response;
  let text: string;
  try {
    res = await fetchImpl(checksumsUrl, { signal, redirect: 'follow' });
    if (!res.ok) {
      await discard(res);
      throw new DownloadError(`HTTP ${res.status} for ${checksumsUrl}`);
    }
    text = await res.text();
  } catch (e) {
    if (e instanceof DownloadError) throw e;
    if (signal?.aborted) throw new DownloadAbortedError(`fetching ${checksumsUrl} was cancelled`);
    throw new DownloadError(`cannot download ${checksumsUrl}: ${errorDetail(e)} — check the network connection (and proxy settings), then try again`);
  }
  const sum = parseSha256Sums(text, fileName);
  if (!sum) throw new DownloadError(`${fileName} is not listed in ${checksumsUrl}`);
  return sum;
}

// ---- helpers ----------------------------------------------------------------------------------

class ProgressMeter {
  private readonly t0 = Date.now();
  private lastEmit = this.t0;
  private lastT = this.t0;
  private lastBytes: number;
  private rate = 0;
  private sampled = false;

  constructor(private readonly start: number, private readonly total: number | null,
    private readonly onProgress: ((p: DownloadProgress) => void) | undefined, private readonly intervalMs: number) {
    this.lastBytes = start;
  }

  update(bytes: number): void {
    if (!this.onProgress) return;
    const now = Date.now();
    if (now - this.lastEmit < this.intervalMs) return;
    this.sample(bytes, now);
    this.lastEmit = now;
    const eta = this.total !== null && this.rate > 0 ? Math.max(0, (this.total - bytes) / this.rate) : null;
    this.onProgress({ bytes, total: this.total, rate: this.rate, etaSeconds: eta });
  }

  finish(bytes: number): void {
    if (!this.onProgress) return;
    const now = Date.now();
    if (!this.sampled) {
      const dt = Math.max(now - this.t0, 1) / 1000;
      this.rate = (bytes - this.start) / dt;
    } else if (now - this.lastT >= 50) this.sample(bytes, now);
    this.onProgress({ bytes, total: this.total ?? bytes, rate: this.rate, etaSeconds: 0 });
  }

  /** Exponential moving average of the rate between samples. */
  private sample(bytes: number, now: number): void {
    const dt = (now - this.lastT) / 1000;
    if (dt <= 0) return;
    const inst = (bytes - this.lastBytes) / dt;
    this.rate = this.sampled ? 0.3 * inst + 0.7 * this.rate : inst;
    this.sampled = true;
    this.lastT = now;
    this.lastBytes = bytes;
  }
}

function fileSize(p: string): number | null {
  try { return fs.statSync(p).size; } catch { return null; }
}

async function hashFile(p: string, hash: Hash, signal: AbortSignal | undefined, aborted: () => Error): Promise<void> {
  for await (const chunk of fs.createReadStream(p, { highWaterMark: 1 << 20 })) {
    if (signal?.aborted) throw aborted();
    hash.update(chunk as Buffer);
  }
}

async function writeAll(fh: fs.promises.FileHandle, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) {
    const { bytesWritten } = await fh.write(data, off, data.length - off);
    off += bytesWritten;
  }
}

/** Rename the verified part into place and make the rename durable. */
function commit(part: string, dest: string): void {
  fs.renameSync(part, dest);
  const dfd = fs.openSync(path.dirname(path.resolve(dest)), 'r');
  try { fs.fsyncSync(dfd); } finally { fs.closeSync(dfd); }
}

async function discard(res: Response): Promise<void> {
  try { await res.body?.cancel(); } catch { /* already closed */ }
}

function numberHeader(v: string | null): number | null {
  return v !== null && /^\d+$/.test(v.trim()) ? Number(v.trim()) : null;
}

/** `bytes <start>-<end>/<total|*>` */
export function parseContentRange(v: string | null): { start: number; end: number; total: number | null } | null {
  const m = v ? /^bytes (\d+)-(\d+)\/(\d+|\*)$/i.exec(v.trim()) : null;
  if (!m) return null;
  return { start: Number(m[1]), end: Number(m[2]), total: m[3] === '*' ? null : Number(m[3]) };
}

function errorDetail(e: unknown): string {
  const err = e as { message?: string; cause?: { code?: string; message?: string } };
  const cause = err?.cause;
  if (cause?.code && cause.message) return cause.message.includes(cause.code) ? cause.message : `${cause.code}: ${cause.message}`;
  if (cause?.message) return cause.message;
  return err?.message ?? String(e);
}
