// Issue 12 cases 2, 5, 10 as a user meets them: the `pvmlab` command against planted homes and bad names.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { testGuest } from './lab/testing/guests.ts';

const BIN = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../bin/pvmlab.mjs');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pvh-'));
const run = (home: string, ...args: string[]) => execa('node', [BIN, ...args], { env: { ...process.env, PVMLAB_HOME: home }, reject: false });
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('pvmlab CLI, hostile homes and names', { timeout: 180_000 }, () => {
  it('(case 2) clean on a home holding someone\'s files refuses, deletes nothing, says why and what to do', async () => {
    const home = path.join(tmp, 'user-home');
    fs.mkdirSync(path.join(home, 'projects'), { recursive: true });
    fs.mkdirSync(path.join(home, '.config'));
    fs.writeFileSync(path.join(home, 'important.txt'), 'keep');
    for (const verb of [['clean'], ['setup'], ['vm', 'list']]) {
      const r = await run(home, ...verb);
      expect(r.exitCode, verb.join(' ')).toBe(1);
      expect(r.stderr.trim().split('\n'), verb.join(' ')).toHaveLength(1);
      expect(r.stderr).toMatch(/not pvmlab's \(\.config, important\.txt, projects\).*PVMLAB_HOME to a new directory/);
    }
    expect(fs.readdirSync(home).sort()).toEqual(['.config', 'important.txt', 'projects']);
    // Positive control: a home of its own is cleaned, and clean says each entry it empties (the folders it makes
    // again) — and leaves the key pair alone.
    const own = path.join(tmp, 'lab');
    expect((await run(own, 'vm', 'create', 'one', '--boot', 'kernel', '--kernel', '/bin/true', '--memory', '256M')).exitCode).toBe(0);
    const c = await run(own, 'clean');
    expect(c.exitCode).toBe(0);
    expect(c.stdout).toContain(`emptied ${path.join(own, 'vms')}\n`);
    expect(c.stdout).not.toContain(path.join(own, 'ssh'));
    expect(c.stdout).toContain('lab cleaned (1 VM removed; the key pair stays: --remove-key removes it)');
  });

  it('(case 10) names that are paths are refused with one readable line, nothing made', async () => {
    const home = path.join(tmp, 'lab10');
    expect((await run(home, 'setup')).exitCode).toBeLessThan(2);
    for (const verb of ['start', 'stop', 'clean', 'logs', 'shell']) {
      for (const name of ['../configs/lab', '../vms/c6']) {
        const r = await run(home, 'vm', verb, name);
        expect(r.exitCode, `${verb} ${name}`).toBe(1);
        expect(r.stderr.trim().split('\n'), `${verb} ${name}`).toHaveLength(1);
        expect(r.stderr, `${verb} ${name}`).toMatch(/^pvmlab: name: '.*' is not a VM name: use 1–32 characters/);
      }
    }
    expect(fs.existsSync(path.join(home, 'vms', 'vms'))).toBe(false);
    expect(fs.readdirSync(path.join(home, 'vms', '.locks'))).toEqual([]);
    // zod errors anywhere are one line too, never `pvmlab: [`.
    const z = await run(home, 'vm', 'create', 'ok', '--boot', 'kernel', '--kernel', '/bin/true', '--cpus', 'many');
    expect(z.stderr).not.toMatch(/pvmlab: \[/);
    expect(z.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('(case 5) a corrupt record is listed as broken, the rest works, and the fix it names works', async () => {
    const home = path.join(tmp, 'lab5');
    expect((await run(home, 'vm', 'create', 'good', '--boot', 'kernel', '--kernel', '/bin/true', '--memory', '256M')).exitCode).toBe(0);
    fs.writeFileSync(path.join(home, 'vms', 'bad.json'), '{"trunc');
    const l = await run(home, 'vm', 'list');
    expect(l.exitCode).toBe(0);
    expect(l.stdout).toMatch(/good\s+target/);
    expect(l.stdout).toContain(`broken: ${path.join(home, 'vms', 'bad.json')} — not valid JSON`);
    expect(l.stdout).toContain('remove it with: pvmlab vm clean bad');
    expect((await run(home, 'vm', 'create', 'other', '--boot', 'kernel', '--kernel', '/bin/true', '--memory', '256M')).exitCode).toBe(0);
    expect((await run(home, 'vm', 'clean', 'bad')).exitCode).toBe(0);
    expect((await run(home, 'vm', 'list')).stdout).not.toContain('broken');
  });

  it('(case 9) kill -9 of `vm start` while it holds the lock: no ghost "starting", the next start takes over', async () => {
    const g = await testGuest('x86_64');
    const home = path.join(tmp, 'lab9');
    const mk = await run(home, 'vm', 'create', 'k9', '--boot', 'kernel', '--kernel', g.kernel, '--initrd', g.initrd, '--append', `console=${g.console}`, '--memory', '256M');
    expect(mk.exitCode, mk.stderr).toBe(0);
    const lock = path.join(home, 'vms', '.locks', 'k9.lock');
    const p = run(home, 'vm', 'start', 'k9');
    const t0 = Date.now();
    while (!fs.existsSync(lock) && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 5));
    expect(fs.existsSync(lock), 'the start took its lock').toBe(true);
    p.kill('SIGKILL');
    await p;
    const status = () => run(home, 'vm', 'list', '--json').then((r) => (JSON.parse(r.stdout) as { name: string; status: string }[]).find((v) => v.name === 'k9')!.status);
    expect(['stopped', 'running']).toContain(await status());
    const again = await run(home, 'vm', 'start', 'k9');
    expect([0, 1]).toContain(again.exitCode);
    if (again.exitCode === 1) expect(again.stderr).toMatch(/already running/);
    expect(await status()).toBe('running');
    expect((await run(home, 'vm', 'clean', 'k9')).exitCode).toBe(0);
  });
});
