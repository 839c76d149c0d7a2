// POST /api/upload/artifact?name=N[&sha256=HEX]: the body streamed to the provisioner, never held whole.
// Checked here (name, Content-Length, size cap → 413, bytes counted, sha256) and again on the provisioner
// (upload.ts's script publishes only a complete body), and an aborted request kills the remote writer.
import crypto from 'node:crypto';
import type http from 'node:http';
import { Transform, type TransformCallback } from 'node:stream';
import { BadRequestError, HTTP_STATUS, PayloadTooLargeError, errorKind, errorLine } from '../lab/errors.ts';
import { artifactName, maxUploadBytes, sha256Hex } from '../lab/lab.ts';

export interface UploadSink {
  upload(name: string, body: NodeJS.ReadableStream, o: { size: number; sha256: string | null; signal: AbortSignal }): Promise<void>;
}

export interface UploadRequest { name: string; size: number; sha256: string | null }

/** Validate the request line and headers. Pure: throws the error people see. */
export function parseUpload(url: URL, headers: http.IncomingHttpHeaders, max: number): UploadRequest {
  const n = artifactName.safeParse(url.searchParams.get('name') ?? '');
  if (!n.success) throw new BadRequestError('name', n.error.issues[0].message);
  const rawSum = url.searchParams.get('sha256') ?? (typeof headers['x-content-sha256'] === 'string' ? headers['x-content-sha256'] : null);
  const sum = rawSum === null ? null : sha256Hex.safeParse(rawSum.toLowerCase());
  if (sum && !sum.success) throw new BadRequestError('sha256', sum.error.issues[0].message);
  const len = headers['content-length'];
  if (len === undefined || !/^\d+$/.test(len)) throw new BadRequestError('Content-Length', 'required: send the file with its size (a browser upload does)');
  const size = Number(len);
  if (size === 0) throw new BadRequestError('file', 'is empty');
  if (size > max) throw new PayloadTooLargeError(`file: ${size} bytes is over the ${max}-byte limit (PVMLAB_MAX_UPLOAD_BYTES)`);
  return { name: n.data, size, sha256: sum ? sum.data : null };
}

/** Counts (and, when a sha256 is given, hashes) what passes; at the end, fails unless exactly `size` bytes (and that sha256) came. */
export class CheckedBody extends Transform {
  bytes = 0;
  private hash: crypto.Hash | null;
  constructor(private size: number, private sha256: string | null) { super(); this.hash = sha256 ? crypto.createHash('sha256') : null; }
  _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.size) { cb(new BadRequestError('file', `more than the announced ${this.size} bytes`)); return; }
    this.hash?.update(chunk);
    cb(null, chunk);
  }
  _flush(cb: TransformCallback): void {
    if (this.bytes !== this.size) { cb(new BadRequestError('file', `${this.bytes} of ${this.size} bytes arrived: nothing published`)); return; }
    const got = this.hash?.digest('hex');
    if (this.sha256 && got !== this.sha256) { cb(new BadRequestError('sha256', `the bytes hash to ${got}, not ${this.sha256}: nothing published`)); return; }
    cb();
  }
}

function answer(res: http.ServerResponse, status: number, body: object): void {
  if (res.headersSent) { res.destroy(); return; }
  res.writeHead(status, { 'Content-Type': 'application/json', ...(status !== 200 ? { Connection: 'close' } : {}) });
  res.end(JSON.stringify(body));
}

export async function handleUpload(sink: UploadSink, url: URL, req: http.IncomingMessage, res: http.ServerResponse, max = maxUploadBytes()): Promise<void> {
  let u: UploadRequest;
  try { u = parseUpload(url, req.headers, max); } catch (e) {
    answer(res, HTTP_STATUS[errorKind(e) ?? 'BAD_REQUEST'], { ok: false, error: errorLine(e) });
    return;
  }
  const ac = new AbortController();
  // The browser went away (or the body broke) before the end: stop the remote writer at once.
  req.on('close', () => { if (!req.complete) ac.abort(); });
  const body = new CheckedBody(u.size, u.sha256);
  body.on('error', () => ac.abort());
  req.on('error', () => ac.abort());
  req.pipe(body);
  try {
    await sink.upload(u.name, body, { size: u.size, sha256: u.sha256, signal: ac.signal });
    answer(res, 200, { ok: true, name: u.name, size: u.size });
  } catch (e) {
    const err = body.errored ?? e; // the panel's own check names the reason best
    const kind = errorKind(err);
    if (!kind && !ac.signal.aborted) console.error('upload failed', e);
    answer(res, kind ? HTTP_STATUS[kind] : 500, { ok: false, error: errorLine(err) });
  }
}
