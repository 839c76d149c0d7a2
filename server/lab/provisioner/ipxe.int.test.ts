// issue 11 #1 against real iPXE (Debian's ipxe.lkrn, the same code as QEMU's NIC ROM) under QEMU TCG: each
// rendered `kernel` line runs as `echo` — iPXE builds a kernel's command line exactly like echo's output
// (the words after the URL, expanded, joined by one space: concat_args) — and the screen is read back from
// VGA text memory through the QEMU monitor.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { cmdlineProblem } from './cmdline.ts';
import { renderIpxeScript } from './pxe.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pvipxe-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const CASES = [
  'console=ttyAMA0 autoinstall ds=nocloud;s=http://192.168.100.1/ci/ quiet',
  'pw=$6$salt$hash a #b c#d',
  '# ; && || x',
  's="a b" q=\'x\' p=a\\b',
  'x=a|b&c<d>e{f}g a=${x b=x} $',
];

function monitor(sock: string, cmd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = net.createConnection(sock, () => c.end(`${cmd}\n`));
    c.on('data', () => {});
    c.on('close', () => resolve());
    c.on('error', reject);
  });
}

/** Run an iPXE script; the screen's text rows once `until` shows up on it. */
async function runIpxe(script: string, until: string): Promise<string[]> {
  fs.writeFileSync(path.join(dir, 'script.ipxe'), script);
  const sock = path.join(dir, 'mon');
  const qemu = execa('qemu-system-x86_64', ['-accel', 'tcg', '-m', '128', '-kernel', '/usr/lib/ipxe/ipxe.lkrn', '-initrd', 'script.ipxe',
    '-display', 'none', '-net', 'none', '-no-reboot', '-monitor', `unix:${sock},server=on,wait=off`], { cwd: dir, reject: false });
  try {
    for (let i = 0; i < 120; i++) {
      await new Promise((r) => setTimeout(r, 500));
      if (!fs.existsSync(sock)) continue;
      fs.rmSync(path.join(dir, 'vga.bin'), { force: true });
      await monitor(sock, 'pmemsave 0xb8000 4000 vga.bin'); // 80×25 text mode: character, attribute
      for (let j = 0; j < 20 && !fs.existsSync(path.join(dir, 'vga.bin')); j++) await new Promise((r) => setTimeout(r, 50));
      const b = fs.readFileSync(path.join(dir, 'vga.bin'));
      const text = Buffer.from(b.filter((_x, k) => k % 2 === 0)).toString('latin1');
      const rows = Array.from({ length: 25 }, (_x, r) => text.slice(r * 80, r * 80 + 80).trimEnd());
      if (rows.includes(until)) return rows;
    }
    throw new Error('iPXE did not get to the end of the script');
  } finally {
    qemu.kill();
    await qemu;
  }
}

describe('iPXE passes the profile\'s cmdline to the kernel unchanged (real iPXE)', () => {
  it('each word arrives as written: ; $ # && || quotes backslashes braces', async () => {
    const lines = CASES.map((cmdline) => {
      expect(cmdlineProblem(cmdline, 'ipxe'), cmdline).toBeNull();
      const kernel = renderIpxeScript({ kind: 'kernel', kernel: 'vmlinuz', cmdline }, '192.168.100.1', 't').split('\n').find((l) => l.startsWith('kernel '))!;
      return kernel.replace(/^kernel http:\/\/192\.168\.100\.1\/artifacts\/vmlinuz/, 'echo K:');
    });
    const rows = await runIpxe(['#!ipxe', ...lines, 'echo p=${net0/ip} u=${} v=${x}', 'echo END-OF-TEST', 'shell', ''].join('\n'), 'END-OF-TEST');
    expect(rows.filter((r) => r.startsWith('K:'))).toEqual(CASES.map((c) => `K: ${c}`));
    // …and why ${…} is refused: iPXE replaces it (here by nothing), there is no escape.
    expect(rows).toContain('p= u= v=');
  }, 120_000);
});
