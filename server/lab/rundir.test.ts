import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LabHome } from './home.ts';
import { MAX_SOCKET_PATH, SSH_TEMP_SUFFIX, checkSocketPath, ensureRunDir, longestSocketPath, removeRunDir, runDirFor } from './rundir.ts';

const tmps: string[] = [];
afterEach(() => { for (const d of tmps.splice(0)) fs.rmSync(d, { recursive: true, force: true }); });
function base(): string { const d = fs.mkdtempSync(path.join(os.tmpdir(), 'pvs-')); tmps.push(d); return d; }

describe('socket paths fit wherever the lab home is', () => {
  // issue 11 #2: a home of 75 characters (60 x under a short parent)
  const root = `/tmp/pvl-i11xy/${'x'.repeat(60)}`; // 15 + 60 = 75 characters
  it('a 75-character home: QEMU sockets and the ssh master (with its temporary name) all fit', () => {
    expect(root).toHaveLength(75);
    const home = new LabHome(root);
    const longest = 'n'.repeat(32);
    for (const p of [home.vmQmp(longest), home.vmSerial(longest), home.vmEvents(longest)]) expect(Buffer.byteLength(p)).toBeLessThanOrEqual(MAX_SOCKET_PATH);
    const master = home.sshControlPath.replace('%C', 'f'.repeat(40));
    expect(Buffer.byteLength(master) + SSH_TEMP_SUFFIX).toBeLessThanOrEqual(MAX_SOCKET_PATH);
    expect(longestSocketPath(home.runDir)).toBeLessThanOrEqual(MAX_SOCKET_PATH);
    expect(home.runDir.startsWith(root)).toBe(false);
  });
  it('one directory per lab, the same for every process (a function of the home path and the uid)', () => {
    expect(runDirFor(root, 1000)).toBe(runDirFor(root + '/', 1000));
    expect(runDirFor(root, 1000)).not.toBe(runDirFor(root + 'z', 1000));
    expect(runDirFor(root, 1000)).toMatch(/^\/tmp\/pvmlab-1000-[0-9a-f]{12}$/);
  });
  it('a path that does not fit is refused with the limit', () => {
    expect(() => checkSocketPath('/' + 'a'.repeat(103))).toThrow('socket path too long (104 > 103 bytes): /aaa');
    expect(() => checkSocketPath('/' + 'a'.repeat(90), SSH_TEMP_SUFFIX)).toThrow(/with the 17 bytes ssh adds/);
  });
});

describe('the run directory is ours', () => {
  it('is created 0700 and accepted again', () => {
    const d = runDirFor('/some/home', process.getuid!(), base());
    ensureRunDir(d);
    expect(fs.lstatSync(d).mode & 0o777).toBe(0o700);
    ensureRunDir(d);
    removeRunDir(d);
    expect(fs.existsSync(d)).toBe(false);
  });
  it('refuses a symlink, a directory open to others, or one owned by someone else', () => {
    const b = base();
    const target = path.join(b, 'elsewhere');
    fs.mkdirSync(target, { mode: 0o700 });
    const link = path.join(b, 'pvmlab-link');
    fs.symlinkSync(target, link);
    expect(() => ensureRunDir(link)).toThrow(/is not a directory \(a symlink or a file is in its place\)/);
    const open = path.join(b, 'pvmlab-open');
    fs.mkdirSync(open);
    fs.chmodSync(open, 0o755);
    expect(() => ensureRunDir(open)).toThrow(/is open to others \(mode 755; it must be 700\)/);
    if (process.getuid!() === 0) {
      const theirs = path.join(b, 'pvmlab-theirs');
      fs.mkdirSync(theirs, { mode: 0o700 });
      fs.chownSync(theirs, 65534, 65534);
      expect(() => ensureRunDir(theirs)).toThrow(/belongs to uid 65534, not to you/);
    }
  });
});
