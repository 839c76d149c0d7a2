// Test helper: the offline provisioner image (scripts/build-provisioner-image.sh, cached by content hash).
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');

export interface ProvisionerImage { dir: string; disk: string; kernel: string; initrd: string; append: string }

export async function provisionerImage(arch: 'x86_64' | 'aarch64' = 'x86_64'): Promise<ProvisionerImage> {
  const r = await execa(path.join(ROOT, 'scripts/build-provisioner-image.sh'), [arch], { stderr: 'inherit' });
  const dir = r.stdout.trim().split('\n').pop()!;
  const m = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { append: string };
  return { dir, disk: path.join(dir, 'disk.qcow2'), kernel: path.join(dir, 'vmlinuz'), initrd: path.join(dir, 'initrd.img'), append: m.append };
}
