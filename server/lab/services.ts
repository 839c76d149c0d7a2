// The domain services of one panel process (or one CLI invocation): built from the lab home on disk.
import { Bus } from './bus.ts';
import { LabHome, ensureHome, type HomeInfo } from './home.ts';
import { runDoctor, type DoctorReport } from './host.ts';
import { Jobs } from './jobs.ts';
import { Vms } from './vms.ts';
import { VmWatcher } from './watch.ts';
import { ensureLabConfig } from './config.ts';
import { networkBackend } from './network/backend.ts';
import type { NetworkBackend } from './network/types.ts';
import { sshArgv } from './ssh/config.ts';

export class Lab {
  readonly bus = new Bus();
  readonly jobs = new Jobs(this.bus);
  readonly vms: Vms;
  private watcher: VmWatcher | null = null;
  private doctorReport: Promise<DoctorReport> | null = null;

  constructor(readonly home: LabHome) {
    this.vms = new Vms(home, this.bus, this.jobs, () => this.doctor());
  }

  static async open(home: LabHome = new LabHome()): Promise<Lab> {
    await ensureHome(home);
    return new Lab(home);
  }

  /** Panel mode: adopt running VMs and push their status changes. */
  watch(): void {
    this.watcher ??= new VmWatcher(this.home, this.vms, this.bus);
    this.watcher.start();
    this.bus.on('vm', (e) => { if (e.status === 'running') void this.watcher?.watch(e.name); });
  }

  network(): NetworkBackend { return networkBackend(ensureLabConfig(this.home)); }

  /** ssh argv for a VM (targets jump through the provisioner). */
  sshArgv(name: string, command?: string[], opts: { tty?: boolean } = {}): string[] {
    const vms = this.vms.list().map((v) => ({ name: v.name, role: v.role, user: v.sshUser, sshPort: v.sshPort, ip: v.privateIp }));
    return sshArgv(this.home, vms, name, command, opts);
  }

  homeInfo(): Promise<HomeInfo> { return ensureHome(this.home); }

  doctor(): Promise<DoctorReport> {
    this.doctorReport ??= runDoctor();
    return this.doctorReport;
  }

  async recheck(): Promise<DoctorReport> {
    const p = runDoctor();
    this.doctorReport = p;
    const r = await p;
    this.bus.emit('host', { kind: 'doctor', checkedAt: r.checkedAt, ok: r.ok });
    return r;
  }

  async cleanLab(opts: { removeKey?: boolean } = {}) {
    const r = await this.vms.cleanLab(opts);
    await ensureHome(this.home);
    return r;
  }

  async close(): Promise<void> { this.watcher?.close(); }
}
