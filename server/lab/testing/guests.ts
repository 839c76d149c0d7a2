// Test helpers: the tiny Debian-built guests (scripts/build-test-guest.sh, cached by content hash) and temp labs.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { LabHome } from '../home.ts';
import { Lab } from '../lab.ts';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');

export interface TestGuest { dir: string; kernel: string; initrd: string; console: string }

export async function testGuest(arch: 'x86_64' | 'aarch64'): Promise<TestGuest> {
  const r = await execa(path.join(ROOT, 'scripts/build-test-guest.sh'), [arch], { stderr: 'inherit' });
  const dir = r.stdout.trim().split('\n').pop()!;
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { console: string };
  return { dir, kernel: path.join(dir, 'vmlinuz'), initrd: path.join(dir, 'initrd.img'), console: manifest.console };
}

/** A lab in a short temp dir (unix socket paths must stay short). */
export async function tempLab(): Promise<{ lab: Lab; root: string; dispose: () => Promise<void> }> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pvl-'));
  const lab = await Lab.open(new LabHome(root));
  return {
    lab, root,
    async dispose() {
      await lab.cleanLab({ removeKey: true }).catch(() => {});
      await lab.close();
      fs.rmSync(root, { recursive: true, force: true });
      fs.rmSync(lab.home.runDir, { recursive: true, force: true }); // the lab's sockets (rundir.ts)
    },
  };
}

/** Wait until the VM's console log matches, or fail naming what was seen last. */
export async function waitForLog(lab: Lab, name: string, re: RegExp, timeoutMs = 90_000): Promise<RegExpMatchArray> {
  const end = Date.now() + timeoutMs;
  let text = '';
  while (Date.now() < end) {
    text = lab.consoleLog(name, 0, 4 << 20).data;
    const m = text.match(re);
    if (m) return m;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${re} in ${name}'s console; last lines:\n${text.split('\n').slice(-15).join('\n')}`);
}

export async function until<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 10_000, stepMs = 50): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
