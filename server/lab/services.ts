// The domain services of one panel process (or one CLI invocation): built from the lab home on disk.
import { Bus } from './bus.ts';
import { LabHome, ensureHome, type HomeInfo } from './home.ts';
import { runDoctor, type DoctorReport } from './host.ts';
import { Jobs } from './jobs.ts';
import { Vms } from './vms.ts';
import { VmWatcher } from './watch.ts';
import fs from 'node:fs';
import { ensureLabConfig, updateLabConfig } from './config.ts';
import type { AccelMode } from './accel/choose.ts';
import { networkBackend } from './network/backend.ts';
import { ConflictError } from './errors.ts';
import type { NetworkBackend } from './network/types.ts';
import { sshArgv } from './ssh/config.ts';
import { Provisioner, WARM_SNAPSHOT } from './provisioner/service.ts';
import { Snapshots, type SnapshotInfo } from './vm/snapshots.ts';
import { reservation } from './provisioner/pxe.ts';
import type { VmView } from './vms.ts';
import { BrokenRecordError, NotFoundError, checkVmName } from './store.ts';
import { sweepHome } from './sweep.ts';

export class Lab {
  readonly bus = new Bus();
  readonly jobs = new Jobs(this.bus);
  readonly vms: Vms;
  readonly provisioner = new Provisioner(this);
  readonly snapshots: Snapshots;
  private watcher: VmWatcher | null = null;
  private doctorReport: Promise<DoctorReport> | null = null;

  constructor(readonly home: LabHome) {
    this.vms = new Vms(home, this.bus, this.jobs, () => this.doctor());
    this.snapshots = new Snapshots(home);
  }

  static async open(home: LabHome = new LabHome()): Promise<Lab> {
    await ensureHome(home);
    return new Lab(home);
  }

  /** Panel mode: adopt running VMs and push their status changes. */
  watch(): void {
    for (const p of sweepHome(this.home)) console.error(`pvmlab: removed ${p} (left by an interrupted operation)`);
    this.watcher ??= new VmWatcher(this.home, this.vms, this.bus);
    this.watcher.start();
    this.bus.on('vm', (e) => { if (e.status === 'running') void this.watcher?.watch(e.name); });
  }

  /** Create a VM; a PXE target also gets a reservation (its IP, or the next free one from .2) and a default profile. */
  async createVm(input: unknown): Promise<VmView> {
    const vm = await this.vms.create(input);
    if (vm.boot === 'pxe' && vm.role === 'target') {
      try {
        const ip = vm.ip ?? this.nextReservedIp();
        await this.provisioner.setReservation(reservation.parse({ mac: vm.mac, ip, hostname: vm.name }));
      } catch (e) {
        await this.vms.clean(vm.name);
        throw e;
      }
    }
    return this.vms.get(vm.name);
  }

  private nextReservedIp(): string {
    const cfg = this.vms.config().network;
    const used = new Set([cfg.provisionerIp, ...this.vms.list().map((v) => v.ip), ...this.provisioner.reservations().map((r) => r.ip)]);
    const [a, b, c] = cfg.subnet.split('.');
    for (let i = 2; i < 100; i++) if (!used.has(`${a}.${b}.${c}.${i}`)) return `${a}.${b}.${c}.${i}`;
    throw new Error('no free address left for reservations (.2–.99)');
  }

  async cleanVm(name: string): Promise<void> {
    // A broken record (or only files left of a name) is cleaned too: its reservation, if any, stays.
    const vm = (() => { try { return this.vms.get(name); } catch (e) { if (e instanceof BrokenRecordError || e instanceof NotFoundError) return null; throw e; } })();
    await this.vms.clean(name);
    if (vm && this.provisioner.reservations().some((r) => r.mac === vm.mac)) await this.provisioner.removeReservation(vm.mac).catch(() => {});
  }

  /** VMs with targets' private IPs from their reservation or DHCP lease (leases only while the provisioner runs). */
  async listVms(): Promise<VmView[]> {
    const views = this.vms.list();
    const ips = new Map<string, string>();
    if (views.some((v) => v.role === 'provisioner' && v.status === 'running')) {
      for (const [m, ip] of await this.provisioner.leaseMap()) ips.set(m, ip);
    }
    for (const r of this.provisioner.reservations()) ips.set(r.mac, r.ip);
    return ips.size ? views.map((v) => this.vms.addressed(v, ips)) : views;
  }

  /**
   * Start a VM; for the provisioner, readiness runs as a job (awaited when wait is set). A provisioner with a
   * usable ready snapshot resumes from it (warm: the stack is healthy seconds later, the PXE files re-published);
   * `cold` skips it (and drops it: the next successful start takes a fresh one).
   */
  async startVm(name: string, opts: { wait?: boolean; imageTar?: string; cold?: boolean } = {}): Promise<VmView> {
    const rec = this.vms.get(name);
    let warm = false;
    if (rec.role === 'provisioner') {
      const w = await this.provisioner.warmState();
      if (opts.cold || !w.usable) await this.provisioner.dropWarm().catch(() => {});
      warm = !opts.cold && w.usable && !opts.imageTar;
    }
    let vm: VmView;
    try {
      vm = await this.vms.start(name, { loadvm: warm ? WARM_SNAPSHOT : null });
    } catch (e) {
      if (!warm) throw e;
      // A snapshot QEMU cannot load (another QEMU version, a damaged disk): drop it and boot cold.
      await this.provisioner.dropWarm().catch(() => {});
      warm = false;
      vm = await this.vms.start(name);
    }
    if (vm.role === 'provisioner') {
      const title = `Provisioner ${name}: ready${warm ? ' (warm: resumed from its ready snapshot)' : ''}`;
      const ready = this.jobs.run({ kind: 'provisioner', title, vm: name }, (job) => this.provisioner.ready(job, { imageTar: opts.imageTar, warm }));
      if (opts.wait) await ready; else ready.catch(() => {});
    }
    return vm;
  }

  // ---------------------------------------------------------------- snapshots, re-provision, reset
  listSnapshots(vm: string): Promise<SnapshotInfo[]> { return this.snapshots.list(vm); }

  async takeSnapshot(vm: string, name: string): Promise<SnapshotInfo> {
    const s = await this.snapshots.take(vm, name);
    this.bus.emit('vm', { name: vm, status: this.vms.get(vm).status, detail: `snapshot '${name}' taken`, at: new Date().toISOString() });
    return s;
  }

  /** Revert; a running snapshot of a stopped VM starts it from that moment. */
  async revertSnapshot(vm: string, name: string): Promise<VmView> {
    const r = await this.snapshots.revert(vm, name);
    if (r.startWith) return this.vms.start(vm, { loadvm: r.startWith });
    const v = this.vms.get(vm);
    this.bus.emit('vm', { name: vm, status: v.status, detail: `reverted to '${name}'`, at: new Date().toISOString() });
    return v;
  }

  async removeSnapshot(vm: string, name: string): Promise<void> {
    await this.snapshots.remove(vm, name);
    this.bus.emit('vm', { name: vm, status: this.vms.get(vm).status, detail: `snapshot '${name}' removed`, at: new Date().toISOString() });
  }

  /** Re-provision a target: fresh disk, same MAC/IP/reservation/profile, boots (PXE) again. */
  reprovisionVm(name: string): Promise<VmView> { return this.vms.reprovision(name); }

  /**
   * Reset the whole lab to its ready state: the provisioner resumes its ready snapshot (PXE files re-published),
   * every target is re-provisioned. Needs the ready snapshot (taken at the end of the provisioner's first start).
   */
  async resetLab(): Promise<{ provisioner: string; targets: string[] }> {
    const prov = this.provisioner.name();
    const w = await this.provisioner.warmState();
    if (!w.usable) throw new ConflictError(`cannot reset the lab: ${w.reason}`);
    if (this.vms.get(prov).status === 'running') await this.vms.stop(prov, { force: true });
    await this.startVm(prov, { wait: true });
    const targets = this.vms.list().filter((v) => v.role === 'target' && v.status === 'running').map((v) => v.name);
    for (const t of targets) await this.vms.reprovision(t);
    return { provisioner: prov, targets };
  }

  network(): NetworkBackend { return networkBackend(ensureLabConfig(this.home)); }

  /** ssh argv for a VM (targets jump through the provisioner). */
  sshArgv(name: string, command?: string[], opts: { tty?: boolean } = {}): string[] {
    checkVmName(name);
    const ips = new Map(this.provisioner.reservations().map((r) => [r.mac, r.ip]));
    const vms = this.vms.list(ips).map((v) => ({ name: v.name, role: v.role, user: v.sshUser, sshPort: v.sshPort, ip: v.privateIp }));
    return sshArgv(this.home, vms, name, command, opts);
  }

  homeInfo(): Promise<HomeInfo> { return ensureHome(this.home); }

  /** The doctor's report (probe cached per host), with the lab config's accelerator override applied. */
  doctor(): Promise<DoctorReport> {
    this.doctorReport ??= runDoctor({ overrides: this.accelOverrides() });
    return this.doctorReport;
  }

  private accelOverrides() {
    const cfg = fs.existsSync(this.home.labConfig) ? ensureLabConfig(this.home) : null;
    return { env: process.env.PVMLAB_ACCEL, labConfig: cfg?.accelerator ?? null };
  }

  /** Set the lab's accelerator override (auto = the probe's choice) and re-read the doctor. */
  async setAccelerator(a: { mode: AccelMode; cpu?: string | null }): Promise<DoctorReport> {
    updateLabConfig(this.home, (c) => ({ ...c, accelerator: { mode: a.mode, cpu: a.mode === 'auto' ? null : a.cpu ?? null } }));
    this.doctorReport = runDoctor({ overrides: this.accelOverrides() });
    const r = await this.doctorReport;
    this.bus.emit('host', { kind: 'doctor', checkedAt: r.checkedAt, ok: r.ok });
    return r;
  }

  /** Re-check: the probe runs again (its cache is ignored and renewed). */
  async recheck(): Promise<DoctorReport> {
    const p = runDoctor({ force: true, overrides: this.accelOverrides() });
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
