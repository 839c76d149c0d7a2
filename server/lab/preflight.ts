// Checks before a VM is created or started: the host's state that would make QEMU block or fail.
import fs from 'node:fs';
import net from 'node:net';
import { BadRequestError } from './errors.ts';
import type { VmRecord } from './spec.ts';

/** Kernel and initrd must be regular files: a FIFO or device would block QEMU (and the start) forever. */
export function checkBootFiles(rec: Pick<VmRecord, 'kernel' | 'initrd'>): void {
  for (const [field, p] of [['kernel', rec.kernel], ['initrd', rec.initrd]] as const) {
    if (!p) continue;
    const st = fs.statSync(p, { throwIfNoEntry: false });
    if (!st) throw new BadRequestError(field, `no such file: ${p}`);
    if (!st.isFile()) throw new BadRequestError(field, `${p} is not a regular file (a FIFO, device or directory would make QEMU block or fail): give a kernel/initrd file`);
  }
}

/** Can we listen on 127.0.0.1:port right now? */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}
