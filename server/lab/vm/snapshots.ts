// Snapshots of a VM: qcow2 internal snapshots of its disk. Taken while the VM runs they also keep its RAM and
// device state (HMP `savevm` through QMP: reverting resumes the guest where it was, processes alive); taken while
// it is stopped they are disk-only (`qemu-img snapshot -c`: reverting gives the disk back, the guest boots anew).
// Parsing and naming are pure; the rest runs qemu-img or QMP under the VM's lock.
import fs from 'node:fs';
import { execa } from 'execa';
import { BadRequestError, ConflictError, NotFoundError } from '../errors.ts';
import type { LabHome } from '../home.ts';
import { qmpOnce } from '../qemu/qmp.ts';
import { livePid } from '../qemu/process.ts';
import { snapshotName } from '../spec.ts';
import { getRecord, withVmLock } from '../store.ts';

export const RESERVED_PREFIX = 'pvmlab-';

export interface SnapshotInfo {
  name: string;
  /** ISO time the snapshot was taken. */
  takenAt: string;
  /** Bytes of saved RAM and device state; 0 for a disk-only snapshot. */
  vmStateBytes: number;
  /** running: RAM + disk (revert resumes the guest); disk-only: the disk alone (revert needs a stopped VM, the guest boots). */
  kind: 'running' | 'disk-only';
}

interface QemuImgSnapshot { name: string; 'vm-state-size': number; 'date-sec': number; 'date-nsec': number }

/** `qemu-img info --output=json` → the snapshots, oldest first. Pure. */
export function parseSnapshots(info: { snapshots?: QemuImgSnapshot[] }): SnapshotInfo[] {
  return (info.snapshots ?? []).map((s) => ({
    name: s.name,
    takenAt: new Date(s['date-sec'] * 1000 + Math.floor(s['date-nsec'] / 1e6)).toISOString(),
    vmStateBytes: s['vm-state-size'],
    kind: s['vm-state-size'] > 0 ? 'running' as const : 'disk-only' as const,
  })).sort((a, b) => a.takenAt.localeCompare(b.takenAt));
}

/** HMP answers errors as text (savevm/loadvm/delvm print nothing on success). Pure. */
export function hmpFailure(output: string): string | null {
  const t = output.trim();
  return t ? t.replace(/^Error:\s*/i, '').split('\n')[0] : null;
}

/** One HMP command (savevm, loadvm, delvm) over QMP; saving a large guest's RAM takes seconds, so the deadline is generous. */
export function hmp(qmpPath: string, command: string, timeoutMs = 600_000): Promise<string> {
  return qmpOnce<string>(qmpPath, 'human-monitor-command', { 'command-line': command }, timeoutMs);
}

/** The snapshots pvmlab operates on for one VM: its overlay disk, which must exist. */
export class Snapshots {
  constructor(private home: LabHome) {}

  private disk(vm: string): string {
    getRecord(this.home, vm);
    const d = this.home.vmDisk(vm);
    if (!fs.existsSync(d)) {
      throw new BadRequestError('vm', `'${vm}' has no disk to hold snapshots (a kernel-boot VM without an image): create it with --image, or as a PXE target`);
    }
    return d;
  }

  /** List (running or stopped: qemu-img reads the disk with --force-share). */
  async list(vm: string): Promise<SnapshotInfo[]> {
    const r = await execa('qemu-img', ['info', '--force-share', '--output=json', this.disk(vm)], { reject: false });
    if (r.exitCode !== 0) throw new Error(`cannot read the snapshots of '${vm}': ${r.stderr.trim().split('\n').pop()}`);
    return parseSnapshots(JSON.parse(r.stdout));
  }

  private async find(vm: string, name: string): Promise<SnapshotInfo> {
    const s = (await this.list(vm)).find((x) => x.name === name);
    if (!s) throw new NotFoundError(`'${vm}' has no snapshot named '${name}' (see: pvmlab vm snapshot ${vm} ls)`);
    return s;
  }

  /** Take a snapshot: with RAM when the VM runs, disk-only when stopped. `internal` allows pvmlab's own names. */
  async take(vm: string, raw: string, opts: { internal?: boolean } = {}): Promise<SnapshotInfo> {
    const name = this.checkName(raw, opts.internal);
    const disk = this.disk(vm);
    return withVmLock(this.home, vm, 'snapshot', async () => {
      if ((await this.list(vm)).some((s) => s.name === name)) throw new ConflictError(`snapshot: '${vm}' already has a snapshot named '${name}': remove it first or pick another name`);
      if (livePid(this.home.vmPid(vm))) {
        const fail = hmpFailure(await hmp(this.home.vmQmp(vm), `savevm ${name}`));
        if (fail) throw new ConflictError(`snapshot of '${vm}' failed: ${fail}`);
      } else {
        await qemuImg(['snapshot', '-c', name, disk]);
      }
      return this.find(vm, name);
    });
  }

  /**
   * Revert to a snapshot. A running snapshot on a running VM resumes that moment (loadvm); on a stopped VM the
   * caller starts it with `-loadvm` (returned as `startWith`). A disk-only snapshot needs the VM stopped.
   */
  async revert(vm: string, raw: string): Promise<{ snapshot: SnapshotInfo; startWith: string | null }> {
    const name = this.checkName(raw, true);
    const disk = this.disk(vm);
    return withVmLock(this.home, vm, 'revert', async () => {
      const s = await this.find(vm, name);
      const running = !!livePid(this.home.vmPid(vm));
      if (s.kind === 'disk-only') {
        if (running) throw new ConflictError(`'${name}' is a disk-only snapshot (it keeps no RAM): stop '${vm}' first, then revert; the guest boots from the reverted disk`);
        await qemuImg(['snapshot', '-a', name, disk]);
        return { snapshot: s, startWith: null };
      }
      if (!running) return { snapshot: s, startWith: name };
      const fail = hmpFailure(await hmp(this.home.vmQmp(vm), `loadvm ${name}`));
      if (fail) throw new ConflictError(`revert of '${vm}' to '${name}' failed: ${fail}`);
      return { snapshot: s, startWith: null };
    });
  }

  async remove(vm: string, raw: string): Promise<void> {
    const name = this.checkName(raw, true);
    const disk = this.disk(vm);
    await withVmLock(this.home, vm, 'snapshot', async () => {
      await this.find(vm, name);
      if (livePid(this.home.vmPid(vm))) {
        const fail = hmpFailure(await hmp(this.home.vmQmp(vm), `delvm ${name}`));
        if (fail) throw new ConflictError(`removing '${name}' from '${vm}' failed: ${fail}`);
      } else {
        await qemuImg(['snapshot', '-d', name, disk]);
      }
    });
  }

  private checkName(raw: string, internal = false): string {
    const r = snapshotName.safeParse(raw);
    if (!r.success) throw new BadRequestError('snapshot', r.error.issues[0].message);
    if (!internal && r.data.startsWith(RESERVED_PREFIX)) throw new BadRequestError('snapshot', `names starting with '${RESERVED_PREFIX}' are pvmlab's own: pick another`);
    return r.data;
  }
}

async function qemuImg(args: string[]): Promise<void> {
  const r = await execa('qemu-img', args, { reject: false });
  if (r.exitCode !== 0) throw new ConflictError(`qemu-img ${args.slice(0, 2).join(' ')} failed: ${r.stderr.trim().split('\n').pop()}`);
}
