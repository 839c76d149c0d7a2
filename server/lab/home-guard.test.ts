import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HOME_MARKER, checkHomeRoot, planClean } from './home-guard.ts';
import { LabHome, ensureHome } from './home.ts';
import { Lab } from './lab.ts';

const tmps: string[] = [];
function tmp() { const d = fs.mkdtempSync(path.join(os.tmpdir(), 'pvg-')); tmps.push(d); return d; }
afterEach(() => { for (const d of tmps.splice(0)) fs.rmSync(d, { recursive: true, force: true }); });

describe('(case 2) a home with entries that are not pvmlab\'s', () => {
  it('is refused at setup, naming the entries and the fix, and nothing is created there', async () => {
    const d = tmp();
    fs.writeFileSync(path.join(d, 'important.txt'), 'x');
    fs.mkdirSync(path.join(d, 'projects'));
    fs.mkdirSync(path.join(d, '.config'));
    await expect(ensureHome(new LabHome(d))).rejects.toThrow(/not pvmlab's \(\.config, important\.txt, projects\).*PVMLAB_HOME to a new directory/);
    expect(fs.readdirSync(d).sort()).toEqual(['.config', 'important.txt', 'projects']);
  });
  it('clean removes only pvmlab\'s own entries and says so; ssh stays unless asked', async () => {
    const d = path.join(tmp(), 'lab');
    const lab = await Lab.open(new LabHome(d));
    // A foreign file appearing later (a user dropping it there) survives clean.
    fs.writeFileSync(path.join(d, 'important.txt'), 'keep me');
    const r = await lab.vms.cleanLab();
    expect(r.left).toEqual(['important.txt']);
    expect(r.entries.map((e) => path.basename(e))).not.toContain('ssh');
    expect(r.entries.map((e) => path.basename(e))).toContain('vms');
    expect(fs.readFileSync(path.join(d, 'important.txt'), 'utf8')).toBe('keep me');
    expect(fs.existsSync(path.join(d, 'ssh', 'id_ed25519'))).toBe(true);
  });
  it('plans clean purely', () => {
    expect(planClean(['vms', 'ssh', HOME_MARKER, 'x', 'logs'], false)).toEqual({ remove: ['logs', 'vms'], leave: ['x'] });
    expect(planClean(['ssh'], true).remove).toEqual(['ssh']);
    expect(planClean(['vms', '.DS_Store'], false)).toEqual({ remove: ['vms'], leave: [] });
  });
});

describe('(case 7) the home itself', () => {
  it('an existing 0755 home is forced to 0700; a symlinked lab folder is refused', async () => {
    const d = path.join(tmp(), 'lab');
    fs.mkdirSync(d, { mode: 0o755 });
    fs.chmodSync(d, 0o755);
    await ensureHome(new LabHome(d));
    expect(fs.statSync(d).mode & 0o777).toBe(0o700);
    const outside = tmp();
    fs.rmSync(path.join(d, 'logs'), { recursive: true });
    fs.symlinkSync(outside, path.join(d, 'logs'));
    expect(() => checkHomeRoot(d)).toThrow(/logs is a symlink/);
  });
  it('a home owned by another user is refused', () => {
    const d = tmp();
    expect(() => checkHomeRoot(d, 12345)).toThrow(/belongs to uid/);
  });
});
