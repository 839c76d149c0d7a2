// The `pvmlab` command as a user runs it (bin/pvmlab.mjs), against a temp lab home.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { runDirFor } from './lab/rundir.ts';

const BIN = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../bin/pvmlab.mjs');
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'pvc-'));
const run = (...args: string[]) => execa('node', [BIN, ...args], { env: { ...process.env, PVMLAB_HOME: home }, reject: false });
afterAll(async () => { await run('clean', '--remove-key'); fs.rmSync(home, { recursive: true, force: true }); fs.rmSync(runDirFor(home), { recursive: true, force: true }); });

describe('pvmlab CLI', { timeout: 180_000 }, () => {
  it('setup --json creates the home and key and reports the doctor with the accelerator the probe proved', async () => {
    const r = await run('setup', '--json');
    expect(r.exitCode).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.home.path).toBe(home);
    expect(j.home.publicKey).toMatch(/^ssh-ed25519 /);
    const x = j.doctor.accelerators.x86_64;
    expect(x.tried.find((t: { ok: boolean }) => t.ok)).toMatchObject({ accel: x.accelerator, cpu: x.cpu });
    expect(fs.statSync(path.join(home, 'ssh', 'id_ed25519')).mode & 0o777).toBe(0o600);
  });
  it('doctor --json', async () => {
    const r = await run('doctor', '--json');
    expect(r.exitCode).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ home, doctor: { ok: true } });
    // Per arch: the choice, its CPU model and source, what was tried (the rejected ones with symptom and advice).
    for (const arch of ['x86_64', 'aarch64']) {
      expect(j.doctor.accelerators[arch]).toMatchObject({ accelerator: expect.stringMatching(/^(kvm|hvf|tcg)$/), cpu: expect.any(String), source: 'probe' });
      for (const t of j.doctor.accelerators[arch].tried.filter((t: { ok: boolean }) => !t.ok)) expect(t.symptom && t.advice).toBeTruthy();
    }
    const forced = await execa('node', [BIN, 'doctor', '--qemu-accel', 'x86_64'], { env: { ...process.env, PVMLAB_HOME: home, PVMLAB_ACCEL: 'tcg' } });
    expect(forced.stdout).toBe('-accel tcg -cpu max');
    const bad = await execa('node', [BIN, 'doctor', '--json'], { env: { ...process.env, PVMLAB_HOME: home, PVMLAB_ACCEL: 'warp' }, reject: false });
    expect(JSON.parse(bad.stdout).doctor.problems).toContain('accelerator for x86_64 guests: PVMLAB_ACCEL=warp: use auto, kvm, hvf or tcg');
  });
  it('answers --help and -h at every level with exit 0', async () => {
    for (const args of [['--help'], ['-h'], ['vm', '--help'], ['vm', 'docker', '--help'], ['vm', 'docker', 'start', '-h'], ['vm', 'create', '--help'], ['doctor', '-h'], ['network', 'status', '--help']]) {
      const r = await run(...args);
      expect(r.exitCode, args.join(' ')).toBe(0);
      expect(r.stdout, args.join(' ')).toMatch(/pvmlab/);
    }
  });
  it('usage errors exit 2 with one line; failures exit 1 with one line', async () => {
    for (const args of [['bogus'], ['vm', 'start'], ['vm', 'create'], ['vm', 'nope'], ['setup', '--what']]) {
      const r = await run(...args);
      expect(r.exitCode, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^pvmlab: /);
    }
    const bad = await run('vm', 'create', 'Bad_Name', '--boot', 'kernel', '--kernel', '/bin/true');
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr.trim()).toMatch(/^pvmlab: --name: use 1–32 characters/);
    const missing = await run('vm', 'start', 'ghost');
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr.trim()).toBe("pvmlab: no VM named 'ghost' (see: pvmlab vm list)");
  });
  it('vm create / list / clean', async () => {
    expect((await run('vm', 'create', 'one', '--boot', 'kernel', '--kernel', '/bin/true', '--memory', '256M')).exitCode).toBe(0);
    const list = await run('vm', 'list');
    expect(list.stdout.split('\n')[0]).toMatch(/^NAME\s+ROLE\s+ARCH\s+PRIVATE-IP\s+SSH\s+MAC\s+STATUS$/);
    expect(list.stdout).toMatch(/one\s+target\s+x86_64\s+-\s+-\s+52:54:00:\S+\s+stopped/);
    expect((await run('vm', 'clean', 'one')).exitCode).toBe(0);
    expect(JSON.parse((await run('vm', 'list', '--json')).stdout)).toEqual([]);
    const net = await run('network', 'status');
    expect(net.stdout).toMatch(/^userspace: running — multicast segment 239\.255\.\d+\.\d+:\d+ on 127\.0\.0\.1/);
  });
  it('issue 11 #3: vm logs writes the log\'s bytes as they are; -f too, with a character split across two writes', async () => {
    expect((await run('vm', 'create', 'logt', '--boot', 'kernel', '--kernel', '/bin/true', '--memory', '256M')).exitCode).toBe(0);
    const log = path.join(home, 'logs', 'logt.log');
    const bytes = Buffer.concat([Buffer.from('a'.repeat(262_143)), Buffer.from([0xe2, 0x94, 0x80, 0x0a]), Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20, 0xff, 0x0a])]);
    fs.writeFileSync(log, bytes);
    const r = await execa('node', [BIN, 'vm', 'logs', 'logt'], { env: { ...process.env, PVMLAB_HOME: home }, encoding: 'buffer', stripFinalNewline: false });
    expect(Buffer.from(r.stdout).equals(bytes)).toBe(true);

    // printf 'slow: \342'; sleep 1; printf '\234\223 done\n'
    fs.writeFileSync(log, Buffer.from('slow: \xe2', 'latin1'));
    const follow = execa('node', [BIN, 'vm', 'logs', 'logt', '-f'], { env: { ...process.env, PVMLAB_HOME: home }, encoding: 'buffer', reject: false });
    const got: Buffer[] = [];
    follow.stdout!.on('data', (d: Buffer) => got.push(d));
    const until = async (n: number) => { for (let i = 0; i < 200 && Buffer.concat(got).length < n; i++) await new Promise((res) => setTimeout(res, 50)); };
    await until(7);
    fs.appendFileSync(log, Buffer.from('\x9c\x93 done\n', 'latin1'));
    await until(14);
    follow.kill();
    await follow;
    expect(Buffer.concat(got).toString('utf8')).toBe('slow: ✓ done\n');
    expect((await run('vm', 'clean', 'logt')).exitCode).toBe(0);
  });
});
