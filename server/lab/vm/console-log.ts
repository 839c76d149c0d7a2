// A VM's console log (logs/<vm>.log, written by QEMU's serial chardev): tails for error messages, text on
// character boundaries for pages, raw bytes for `vm logs`, a stream for downloads. Reads refuse symlinks.
import fs from 'node:fs';
import { Readable } from 'node:stream';
import type { LabHome } from '../home.ts';
import { getRecord } from '../store.ts';
import { readLogBytes, readLogText, type LogBytes, type LogText } from '../consolelog.ts';
import { openReadNoFollow } from '../nofollow.ts';

/** Last non-empty lines of a log file, at most maxBytes read from its end (decoded on character boundaries). */
export function logTail(file: string, lines = 20, maxBytes = 8192): string {
  return readLogText(file, -maxBytes, maxBytes).data.split(/\r?\n/).filter((l) => l.trim()).slice(-lines).join('\n');
}

/** The console log as it is now, byte for byte (for downloads): a stream of its first `size` bytes. Errors: NotFoundError. */
export function consoleLogFile(home: LabHome, name: string): { size: number; stream: NodeJS.ReadableStream } {
  getRecord(home, name);
  const fd = openReadNoFollow(home.vmLog(name));
  if (fd === null) return { size: 0, stream: Readable.from([]) };
  const size = fs.fstatSync(fd).size;
  if (size === 0) { fs.closeSync(fd); return { size, stream: Readable.from([]) }; }
  return { size, stream: fs.createReadStream('', { fd, start: 0, end: size - 1 }) };
}

/** Raw bytes of the console log from a byte offset (negative: from the end) — for `vm logs`, never decoded. */
export function consoleLogBytes(home: LabHome, name: string, offset: number, limit = 256 * 1024): LogBytes {
  getRecord(home, name);
  return readLogBytes(home.vmLog(name), offset, limit);
}

/** The console log as text on character boundaries (consolelog.ts readLogText): `start`/`offset` are the bytes `data` decodes. */
export function consoleLogText(home: LabHome, name: string, offset: number, limit = 256 * 1024): LogText {
  getRecord(home, name);
  return readLogText(home.vmLog(name), offset, limit);
}
