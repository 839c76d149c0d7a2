// Reading the console log: bytes are bytes. Readers that hand out bytes (the CLI, the log socket, the
// download) never decode; readers that hand out text decode only whole UTF-8 characters and return the byte
// offsets of exactly what they decoded, so the next read continues where this one stopped and a character
// split across two reads (or two writes of the guest) arrives whole. Bytes that are not UTF-8 (Latin-1, 0xFF)
// are whole "characters" of their own: text readers show them as U+FFFD, byte readers pass them unchanged.
import fs from 'node:fs';
import { openReadNoFollow } from './nofollow.ts';

/** Bytes a UTF-8 sequence starting with lead byte b needs (1 for ASCII and for bytes that cannot start one). */
function seqLen(b: number): number {
  if (b >= 0xc2 && b <= 0xdf) return 2;
  if (b >= 0xe0 && b <= 0xef) return 3;
  if (b >= 0xf0 && b <= 0xf4) return 4;
  return 1;
}

/** Is `second` a valid second byte after lead byte `lead` (UTF-8's overlong/surrogate/range rules)? */
function validSecond(lead: number, second: number): boolean {
  if (lead === 0xe0) return second >= 0xa0 && second <= 0xbf;
  if (lead === 0xed) return second >= 0x80 && second <= 0x9f;
  if (lead === 0xf0) return second >= 0x90 && second <= 0xbf;
  if (lead === 0xf4) return second >= 0x80 && second <= 0x8f;
  return second >= 0x80 && second <= 0xbf;
}

/**
 * The length of the longest prefix of `buf` that does not end inside an unfinished UTF-8 character: a tail
 * of 1–3 bytes that is a valid start of a character still missing bytes is left out (the rest is on its way).
 */
export function completeUtf8Length(buf: Uint8Array): number {
  const n = buf.length;
  for (let i = n - 1; i >= Math.max(0, n - 3); i--) {
    const b = buf[i];
    if (b >= 0x80 && b <= 0xbf) continue; // a continuation byte: look further back for its lead
    const need = seqLen(b);
    const have = n - i;
    if (need <= have) return n;
    for (let j = i + 1; j < n; j++) {
      const c = buf[j];
      if (j === i + 1 ? !validSecond(b, c) : c < 0x80 || c > 0xbf) return n; // invalid: whole as it is
    }
    return i;
  }
  return n;
}

/** Continuation bytes at the start of `buf` (at most 3): where a read from the middle of a character starts decoding. */
export function leadingContinuations(buf: Uint8Array): number {
  let i = 0;
  while (i < 3 && i < buf.length && buf[i] >= 0x80 && buf[i] <= 0xbf) i++;
  return i;
}

export interface LogBytes { data: Buffer; start: number; offset: number; size: number }
export interface LogText { data: string; start: number; offset: number; size: number }

/**
 * Raw bytes of a log file. offset ≥ 0: from that byte; offset < 0: that many bytes before the end.
 * Returns the bytes, their start and end (`offset`) in the file, and the file size. A missing file is empty.
 */
export function readLogBytes(file: string, offset: number, limit: number): LogBytes {
  // Never through a symlink planted in the lab home (nofollow.ts): refused with the fix, not followed.
  const fd = openReadNoFollow(file);
  if (fd === null) return { data: Buffer.alloc(0), start: 0, offset: 0, size: 0 };
  try {
    const size = fs.fstatSync(fd).size;
    const start = Math.min(Math.max(0, offset < 0 ? size + offset : offset), size);
    const len = Math.max(0, Math.min(limit, size - start));
    const data = Buffer.alloc(len);
    const got = len ? fs.readSync(fd, data, 0, len, start) : 0;
    return { data: data.subarray(0, got), start, offset: start + got, size };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Text of a log file on character boundaries: a start inside a character moves forward to the next one,
 * an unfinished character at the end is left for the next read. `start`/`offset` are the byte range that
 * `data` decodes exactly (read again from `offset` to continue). Needs limit ≥ 4 to always make progress.
 */
export function readLogText(file: string, offset: number, limit: number): LogText {
  const r = readLogBytes(file, offset, limit);
  const skip = r.start > 0 ? leadingContinuations(r.data) : 0;
  const body = r.data.subarray(skip);
  const end = completeUtf8Length(body);
  return { data: body.subarray(0, end).toString('utf8'), start: r.start + skip, offset: r.start + skip + end, size: r.size };
}

/**
 * Lines of a byte stream (a child's stdout): decoded with a streaming decoder, so a character split across
 * chunks arrives whole, and split on "\n" with the unfinished last line kept for the next chunk. Empty
 * lines are skipped. `end()` flushes what is left.
 */
export function lineSplitter(onLine: (line: string) => void): { write(chunk: Uint8Array): void; end(): void } {
  const decoder = new TextDecoder('utf-8');
  let partial = '';
  const emit = (text: string, final: boolean) => {
    const parts = (partial + text).split('\n');
    partial = final ? '' : parts.pop()!;
    for (const l of parts) if (l.replace(/\r$/, '')) onLine(l.replace(/\r$/, ''));
  };
  return {
    write(chunk) { emit(decoder.decode(chunk, { stream: true }), false); },
    end() { emit(decoder.decode(), true); },
  };
}
