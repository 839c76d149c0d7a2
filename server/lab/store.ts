// VM records on disk: one JSON file per VM, atomic writes, a per-VM lock that also works across processes.
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic, type LabHome } from './home.ts';
import { vmName, vmRecord, type VmRecord } from './spec.ts';
import { BadRequestError, ConflictError, NotFoundError } from './errors.ts';
import { processAlive, processStart } from './pids.ts';
export { ConflictError, NotFoundError };

/** Every name that reaches the disk is checked with the API's schema (no `../configs/lab` aliases). */
export function checkVmName(name: string): string {
  const r = vmName.safeParse(name);
  if (!r.success) throw new BadRequestError('name', `'${name.slice(0, 64)}' is not a VM name: ${r.error.issues[0].message}`);
  return r.data;
}

/** A record file that cannot be used: the lab lists it as broken and goes on with the others. */
export class BrokenRecordError extends ConflictError {
  constructor(readonly vm: string, readonly file: string, readonly reason: string) {
    super(`VM record ${file} is broken (${reason}): remove it with \`pvmlab vm clean ${vm}\` (or rm ${file})`);
  }
  get fix(): string { return `pvmlab vm clean ${this.vm}`; }
}

export function readRecord(home: LabHome, name: string): VmRecord | null {
  const p = home.vmRecord(checkVmName(name));
  let raw: string;
  try {
    // Never through a symlink: a planted vms/<x>.json → /elsewhere is not a record of this lab.
    const fd = fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    try {
      if (!fs.fstatSync(fd).isFile()) throw new BrokenRecordError(name, p, 'not a regular file');
      raw = fs.readFileSync(fd, 'utf8');
    } finally { fs.closeSync(fd); }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'ELOOP') throw new BrokenRecordError(name, p, 'a symlink; pvmlab never follows links out of its home');
    throw e;
  }
  let json: unknown;
  try { json = JSON.parse(raw); } catch (e) { throw new BrokenRecordError(name, p, `not valid JSON: ${(e as Error).message}`); }
  const r = vmRecord.safeParse(json);
  if (!r.success) throw new BrokenRecordError(name, p, r.error.issues.slice(0, 3).map((i) => `${i.path.map(String).join('.') || 'record'}: ${i.message}`).join('; '));
  if (r.data.name !== name) throw new BrokenRecordError(name, p, `it names VM '${r.data.name}', not '${name}'`);
  return r.data;
}

export interface BrokenRecord { name: string; file: string; reason: string; fix: string }

/** Every record file: the good ones, and the broken ones with their file, reason and fix. */
export function scanRecords(home: LabHome): { records: VmRecord[]; broken: BrokenRecord[] } {
  const records: VmRecord[] = [];
  const broken: BrokenRecord[] = [];
  for (const f of fs.readdirSync(home.dir('vms'))) {
    if (!f.endsWith('.json') || f.startsWith('.')) continue;
    const name = f.slice(0, -5);
    if (!vmName.safeParse(name).success) {
      broken.push({ name, file: `${home.dir('vms')}/${f}`, reason: 'its file name is not a VM name', fix: `rm '${home.dir('vms')}/${f}'` });
      continue;
    }
    try {
      const r = readRecord(home, name);
      if (r) records.push(r);
    } catch (e) {
      if (!(e instanceof BrokenRecordError)) throw e;
      broken.push({ name, file: e.file, reason: e.reason, fix: e.fix });
    }
  }
  return { records, broken };
}

export function getRecord(home: LabHome, name: string): VmRecord {
  const r = readRecord(home, name);
  if (!r) throw new NotFoundError(`no VM named '${name}' (see: pvmlab vm list)`);
  return r;
}

export function writeRecord(home: LabHome, rec: VmRecord): void {
  writeFileAtomic(home.vmRecord(rec.name), JSON.stringify(vmRecord.parse(rec), null, 2) + '\n');
}

/** The usable records (broken ones are skipped here: see scanRecords). */
export function listRecords(home: LabHome): VmRecord[] {
  const out = scanRecords(home).records;
  return out.sort((a, b) => (a.role === b.role ? a.name.localeCompare(b.name) : a.role === 'provisioner' ? -1 : 1));
}

/** A lock file's content: "pid\nwhat\nstart\n" (start: processStart's token; absent in locks of older versions). */
interface LockInfo { pid: number; op: string; start: string | null }

function parseLock(text: string): LockInfo | null {
  const [p, op, start] = text.split('\n');
  const pid = Number(p);
  return Number.isInteger(pid) && pid > 0 ? { pid, op: op ?? '', start: start || null } : null;
}

/** The lock's owner still runs: its pid is alive and, where start times can be read, is the same process (not a reused pid). */
function ownerAlive(l: LockInfo): boolean {
  if (!processAlive(l.pid)) return false;
  const now = l.start === null ? null : processStart(l.pid);
  return l.start === null || now === null || now === l.start;
}

function readLock(lock: string): string | null {
  try { return fs.readFileSync(lock, 'utf8'); } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/** Create the lock with its content in one step: a temp file linked into place (fails if the lock exists). */
function createLock(lock: string, content: string): boolean {
  const tmp = `${lock}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  fs.writeFileSync(tmp, content, { mode: 0o644, flag: 'wx' });
  try {
    fs.linkSync(tmp, lock);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** The live holder of a lock file (pid and operation), or null when there is none or its owner died. */
export function lockHolder(lockFile: string): { pid: number; op: string } | null {
  let text: string;
  try { text = fs.readFileSync(lockFile, 'utf8'); } catch { return null; }
  const l = parseLock(text);
  return l && ownerAlive(l) ? { pid: l.pid, op: l.op } : null;
}

/**
 * Run fn holding the VM's lock. The lock is a file holding "pid\nwhat\nstart\n", created whole or not at all; a
 * lock whose owner process is gone (or whose pid now belongs to another process) is stale and taken over. Busy → ConflictError (the caller says what is going on).
 */
export async function withVmLock<T>(home: LabHome, name: string, what: string, fn: () => Promise<T>): Promise<T> {
  // Lab-wide locks ('_lab', '_pxe') are pvmlab's own names: a VM name can never start with '_'.
  const lock = home.vmLock(name.startsWith('_') ? name : checkVmName(name));
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  for (let attempt = 0; !createLock(lock, `${process.pid}\n${what}\n${processStart(process.pid) ?? ''}\n`); attempt++) {
    const held = readLock(lock);
    const info = held === null ? null : parseLock(held);
    if (attempt >= 5 || (info && ownerAlive(info))) {
      const what = name === '_pxe' ? "the lab's reservations are" : name.startsWith('_') ? 'the lab is' : `VM '${name}' is`;
      throw new ConflictError(`${what} busy (${info?.op || 'another operation'} in process ${info?.pid ?? '?'}): try again when it finishes`);
    }
    if (held === null) continue; // released meanwhile
    // Stale: its owner died. Move it aside and drop it only if it is still that stale lock: another process
    // may have taken over first, and then this puts its lock back.
    const aside = `${lock}.${process.pid}.stale`;
    try { fs.renameSync(lock, aside); } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw e;
    }
    if (readLock(aside) !== held) { try { fs.linkSync(aside, lock); } catch { /* a newer lock is in place */ } }
    fs.rmSync(aside, { force: true });
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}
