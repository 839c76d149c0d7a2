import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LabHome, defaultHomePath, ensureHome, writeFileAtomic } from './home.ts';
import { HOME_DIRS } from './home-guard.ts';

const tmps: string[] = [];
function tmpHome() {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'pvh-'));
  tmps.push(d);
  const home = new LabHome(path.join(d, 'lab'));
  tmps.push(home.runDir);
  return home;
}
afterEach(() => { for (const d of tmps.splice(0)) fs.rmSync(d, { recursive: true, force: true }); });

describe('lab home', () => {
  it('defaults to ~/.provisioning-vm-lab, PVMLAB_HOME overrides', () => {
    expect(defaultHomePath({})).toBe(path.join(os.homedir(), '.provisioning-vm-lab'));
    expect(defaultHomePath({ PVMLAB_HOME: '/x/y' })).toBe('/x/y');
  });

  it('creates the layout and a key pair with tight permissions, once', async () => {
    const home = tmpHome();
    const info = await ensureHome(home);
    expect(info.created).toBe(true);
    expect(info.keyCreated).toBe(true);
    for (const d of HOME_DIRS) expect(fs.statSync(home.dir(d)).isDirectory()).toBe(true);
    expect(fs.statSync(home.dir('ssh')).mode & 0o777).toBe(0o700);
    expect(fs.statSync(home.privateKey).mode & 0o777).toBe(0o600);
    expect(info.publicKey).toMatch(/^ssh-ed25519 \S+ pvmlab$/);
    const before = fs.readFileSync(home.privateKey, 'utf8');
    const again = await ensureHome(home);
    expect(again.created).toBe(false);
    expect(again.keyCreated).toBe(false);
    expect(fs.readFileSync(home.privateKey, 'utf8')).toBe(before);
    expect(again.freeBytes).toBeGreaterThan(0);
    expect(fs.readdirSync(home.dir('ssh')).sort()).toEqual(['id_ed25519', 'id_ed25519.pub']);
  });

  it('re-tightens loosened permissions and restores a lost public key', async () => {
    const home = tmpHome();
    await ensureHome(home);
    const pub = fs.readFileSync(home.publicKey, 'utf8');
    fs.chmodSync(home.privateKey, 0o644);
    fs.chmodSync(home.dir('ssh'), 0o755);
    fs.rmSync(home.publicKey);
    await ensureHome(home);
    expect(fs.statSync(home.privateKey).mode & 0o777).toBe(0o600);
    expect(fs.statSync(home.dir('ssh')).mode & 0o777).toBe(0o700);
    expect(fs.readFileSync(home.publicKey, 'utf8').split(' ').slice(0, 2)).toEqual(pub.split(' ').slice(0, 2));
  });

  it('refuses paths that escape the home', () => {
    const home = tmpHome();
    expect(() => home.inside('..', 'etc')).toThrow(/escapes/);
    expect(() => home.vmRecord('../../x')).toThrow(/escapes/);
    expect(home.vmRecord('a')).toBe(path.join(home.root, 'vms', 'a.json'));
  });

  it('keeps sockets out of the home, in its short run directory (any home length)', () => {
    const home = new LabHome('/tmp/' + 'x'.repeat(90));
    expect(home.vmQmp('abcdefgh')).toBe(`${home.runDir}/abcdefgh.qmp`);
    expect(home.runDir).toMatch(/^\/tmp\/pvmlab-\d+-[0-9a-f]{12}$/);
    expect(() => home.vmQmp('../x')).toThrow(/bad VM name/);
  });

  it('writes atomically and leaves no temp file', async () => {
    const home = tmpHome();
    await ensureHome(home);
    const f = path.join(home.dir('vms'), 'a.json');
    writeFileAtomic(f, '{"a":1}');
    writeFileAtomic(f, '{"a":2}');
    expect(fs.readFileSync(f, 'utf8')).toBe('{"a":2}');
    expect(fs.readdirSync(home.dir('vms')).filter((x) => x.endsWith('.tmp'))).toEqual([]);
  });
});
