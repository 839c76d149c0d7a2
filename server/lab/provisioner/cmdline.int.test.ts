// issue 11 #1 against the real GRUB 2.06 parser (Debian's grub-common: grub-script-check; grub-emu: the
// emulator runs the config). grub-emu has no `linux` loader, so the rendered `linux` line runs through a GRUB
// function that prints each word it receives: exactly the words GRUB's linux command joins (with one space)
// into the kernel's command line.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { cmdlineProblem } from './cmdline.ts';
import { renderGrubConfig } from './pxe.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pvgrub-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const CASES = [
  'console=ttyAMA0 autoinstall ds=nocloud;s=http://192.168.100.1/ci/ quiet',
  'pw=$6$salt$hash quiet',
  'a #b c#d',
  '# ; && || x',
  'x=a|b&c<d>e{f}g',
  'k=$HOME $ $1 $@',
  'a=${x} p=${net0/ip} u=${} b=x}',
  'console=ttyAMA0',
];

/** Run a GRUB config in grub-emu; returns the words of each `show` call. */
async function grubWords(cfg: string): Promise<string[][]> {
  const d = fs.mkdtempSync(path.join(dir, 'emu-'));
  fs.writeFileSync(path.join(d, 'grub.cfg'), cfg);
  const r = await execa('grub-emu', ['-r', 'host', '-d', d], { input: '', timeout: 30_000, reject: false });
  const text = String(r.stdout).replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').replace(/\r/g, '');
  const out: string[][] = [];
  for (const line of text.split('\n')) {
    if (line === 'BEGIN') out.push([]);
    const m = /^ARG\[(.*)\]$/.exec(line);
    if (m) out.at(-1)!.push(m[1]);
  }
  return out;
}

describe('GRUB passes the profile\'s cmdline to the kernel unchanged (grub-emu 2.06)', () => {
  it('every rendered config passes grub-script-check', async () => {
    for (const cmdline of CASES) {
      expect(cmdlineProblem(cmdline, 'grub'), cmdline).toBeNull();
      const f = path.join(dir, 'check.cfg');
      fs.writeFileSync(f, renderGrubConfig({ kind: 'kernel', kernel: 'vmlinuz', initrd: 'initrd', cmdline }, 'arm1'));
      const r = await execa('grub-script-check', [f], { reject: false });
      expect(r.exitCode, `${cmdline}\n${r.stderr}`).toBe(0);
    }
  });

  it('the words reaching the linux command are the cmdline\'s words, with ; $ # { } | & < > intact', async () => {
    const lines = CASES.map((cmdline) => renderGrubConfig({ kind: 'kernel', kernel: 'vmlinuz', cmdline }, 'arm1').split('\n').find((l) => l.startsWith('linux '))!);
    const cfg = ['function show { echo "BEGIN"; for a in "$@"; do echo "ARG[$a]"; done; }',
      ...lines.map((l) => l.replace(/^linux /, 'show ')), 'halt', ''].join('\n');
    const got = await grubWords(cfg);
    expect(got.map((w) => w.slice(1).join(' '))).toEqual(CASES);
    expect(got.map((w) => w[0])).toEqual(CASES.map(() => '/artifacts/vmlinuz'));
  }, 60_000);

  it('the report\'s line as it used to be written loses s=… and quiet (why quoting is needed)', async () => {
    const got = await grubWords(['function show { echo "BEGIN"; for a in "$@"; do echo "ARG[$a]"; done; }',
      `show /artifacts/vmlinuz ${CASES[0]}`, 'show /artifacts/vmlinuz pw=$6$salt$hash', 'halt', ''].join('\n'));
    expect(got.map((w) => w.slice(1).join(' '))).toEqual(['console=ttyAMA0 autoinstall ds=nocloud', 'pw=']);
  }, 60_000);
});
