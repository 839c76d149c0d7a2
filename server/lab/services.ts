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
import type { Reservation } from './provisioner/pxe.ts';
import type { LabFacts, VmView } from './vms.ts';
import { addressPlan, freeIp, ipHolders } from './addressing.ts';
import { BrokenRecordError, NotFoundError, checkVmName, listRecords } from './store.ts';
import { sweepHome } from './sweep.ts';
import { vmCreateInput } from './spec.ts';

/** A created VM, with what pvmlab did besides (e.g. adopted an existing reservation) for people to read. */
export type CreatedVm = VmView & { notes: string[] };
import { upLab } from './up/execute.ts';
import { setCatalogueProfile } from './up/profile.ts';
import { defaultLab, type ImageChoice } from './up/desired.ts';
import { hostArch, type Arch } from './spec.ts';

/** The readiness job's title: says when the provisioner resumed its ready snapshot. */
export function readyTitle(name: string, warm: boolean): string {
  return `Provisioner ${name}: ready${warm ? ' (warm: resumed from its ready snapshot)' : ''}`;
}

export class Lab {
  readonly bus = new Bus();
  readonly jobs = new Jobs(this.bus);
  readonly vms: Vms;
  readonly provisioner = new Provisioner(this);
  readonly snapshots: Snapshots;
  private watcher: VmWatcher | null = null;
  private doctorReport: Promise<DoctorReport> | null = null;

  constructor(readonly home: LabHome) {
    this.vms = new Vms(home, this.bus, this.jobs, () => this.doctor(), () => this.addressFacts());
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

  /**
   * Create a VM. The rule that makes "an IP a VM is given is an IP it gets" (README, Addresses): every
   * target with an IP, and every PXE target, gets a DHCP reservation for its MAC (the next free address
   * when none is given). A MAC that already has a reservation adopts it — its IP and boot profile stay,
   * and the returned notes say so — unless a different --ip is asked for: then CONFLICT naming it.
   */
  async createVm(raw: unknown): Promise<CreatedVm> {
    const parsed = vmCreateInput.safeParse(raw);
    const notes: string[] = [];
    let adopt: Reservation | undefined;
    const m = parsed.success ? parsed.data.mac : undefined;
    // (a MAC another VM already has is refused by vms.create, naming that VM)
    if (m && parsed.success && !listRecords(this.home).some((r) => r.mac === m || r.uplinkMac === m)) {
      adopt = this.provisioner.reservations().find((r) => r.mac === m);
      const what = adopt && `a reservation (${adopt.ip}, hostname ${adopt.hostname}, profile ${adopt.profile.kind})`;
      if (adopt && parsed.data.role === 'provisioner') throw new ConflictError(`mac: ${m} has ${what}; the provisioner has a fixed address: remove the reservation first, or use another MAC`);
      if (adopt && parsed.data.ip && parsed.data.ip !== adopt.ip) throw new ConflictError(`mac: ${m} already has ${what}: leave out --ip to adopt it, or remove that reservation first`);
    }
    const vm = await this.vms.create(adopt ? { ...(raw as object), ip: adopt.ip } : raw, { adopting: !!adopt });
    if (vm.role === 'target' && (vm.boot === 'pxe' || vm.ip || adopt)) {
      try {
        if (adopt) {
          await this.provisioner.adoptReservation(adopt.mac, vm.name);
          notes.push(`adopted the existing reservation for ${adopt.mac}: ${adopt.ip}, profile ${adopt.profile.kind}${adopt.hostname !== vm.name ? `, hostname ${adopt.hostname} → ${vm.name}` : ''}`);
        } else {
          const ip = vm.ip ?? this.nextReservedIp();
          await this.provisioner.setReservation({ mac: vm.mac, ip, hostname: vm.name });
        }
      } catch (e) {
        await this.vms.clean(vm.name);
        throw e;
      }
    }
    return { ...this.vms.get(vm.name), notes };
  }

  private nextReservedIp(): string {
    const cfg = this.vms.config().network;
    const ip = freeIp(addressPlan(cfg), ipHolders(listRecords(this.home), this.provisioner.reservations()));
    if (!ip) throw new ConflictError(`ip: no free address left for a reservation outside the dynamic range ${cfg.dhcpStart}–${cfg.dhcpEnd}`);
    return ip;
  }

  /** Reservations and the last known leases: what every view's private IP is read from (addressing.ts vmAddress). */
  addressFacts(): LabFacts {
    return { reservations: this.provisioner.usableReservations(), leases: this.provisioner.knownLeases() };
  }

  /** Read the DHCP leases again (only while the provisioner runs; never waits more than ~2 s). */
  private async refreshLeases(): Promise<void> {
    const running = listRecords(this.home).some((r) => r.role === 'provisioner' && this.vms.status(r).status === 'running');
    if (running) await this.provisioner.leaseMap(); else this.provisioner.forgetLeases();
  }

  async cleanVm(name: string): Promise<void> {
    // A broken record (or only files left of a name) is cleaned too: its reservation, if any, stays.
    const vm = (() => { try { return this.vms.get(name); } catch (e) { if (e instanceof BrokenRecordError || e instanceof NotFoundError) return null; throw e; } })();
    await this.vms.clean(name);
    if (vm && this.provisioner.reservations().some((r) => r.mac === vm.mac)) await this.provisioner.removeReservation(vm.mac).catch(() => {});
  }

  /** Every VM with its private IP (reservation, else current lease; addressing.ts vmAddress). */
  async listVms(): Promise<VmView[]> {
    await this.refreshLeases();
    return this.vms.list();
  }

  /** One VM as its page shows it: the same private IP as the list, the ssh command and `vm shell`. */
  async getVm(name: string): Promise<VmView> {
    await this.refreshLeases();
    return this.vms.get(name);
  }

  /**
   * Start a VM; for the provisioner, readiness runs as a job (awaited when wait is set). A provisioner with a
   * usable ready snapshot resumes from it (warm: the stack is healthy seconds later, the PXE files re-published);
   * `cold` skips it (and drops it: the next successful start takes a fresh one).
   */
  async startVm(name: string, opts: { wait?: boolean; imageTar?: string; cold?: boolean } = {}): Promise<VmView> {
    const { vm, warm } = await this.powerOn(name, { cold: opts.cold || !!opts.imageTar });
    if (vm.role === 'provisioner') {
      const ready = this.jobs.run({ kind: 'provisioner', title: readyTitle(name, warm), vm: name },
        (job) => this.provisioner.ready(job, { imageTar: opts.imageTar, warm }));
      if (opts.wait) await ready; else ready.catch(() => {});
    }
    return vm;
  }

  /**
   * Power a VM on. The provisioner resumes its ready snapshot when it has a usable one and `cold` is not asked
   * (`warm` says so: its readiness then only checks SSH, sets the clock and re-publishes); otherwise it boots, and
   * a stale snapshot is dropped. A snapshot QEMU cannot load falls back to a cold boot.
   */
  async powerOn(name: string, opts: { cold?: boolean } = {}): Promise<{ vm: VmView; warm: boolean }> {
    const rec = this.vms.get(name);
    let warm = false;
    if (rec.role === 'provisioner') {
      const w = await this.provisioner.warmState();
      if (opts.cold || !w.usable) await this.provisioner.dropWarm().catch(() => {});
      warm = !opts.cold && w.usable;
    }
    try {
      return { vm: await this.vms.start(name, { loadvm: warm ? WARM_SNAPSHOT : null }), warm };
    } catch (e) {
      if (!warm) throw e;
      await this.provisioner.dropWarm().catch(() => {});
      return { vm: await this.vms.start(name), warm: false };
    }
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

  /** `pvmlab up` on the default lab as a job (the panel's "Start a lab"): returns its id at once; progress and cancel go through jobs. */
  startLab(opts: { arch?: Arch; targets?: number; image?: ImageChoice } = {}): { jobId: string } {
    if (this.jobs.list().some((j) => j.kind === 'up' && j.state === 'running')) throw new ConflictError('a lab is already being started: follow it in Jobs, or cancel it there');
    let jobId = '';
    this.jobs.run({ kind: 'up', title: 'Start a lab' }, (job) => { jobId = job.id; return upLab(this, defaultLab(opts), job); }).catch(() => {});
    return { jobId };
  }

  /** Give a reservation a catalogue profile (`live`, the default; `debian-12-installer`; `netboot.xyz`): files fetched and uploaded when missing. */
  async setCatalogueProfile(macAddr: string, name: string) {
    const r = this.provisioner.reservations().find((x) => x.mac === macAddr.toLowerCase());
    if (!r) throw new NotFoundError(`no reservation for ${macAddr}`);
    return setCatalogueProfile(this, r, this.vms.list().find((v) => v.mac === r.mac)?.arch ?? hostArch(), name);
  }

  network(): NetworkBackend { return networkBackend(ensureLabConfig(this.home)); }

  /** ssh argv for a VM (targets jump through the provisioner). */
  sshArgv(name: string, command?: string[], opts: { tty?: boolean } = {}): string[] {
    checkVmName(name);
    const vms = this.vms.list().map((v) => ({ name: v.name, role: v.role, user: v.sshUser, sshPort: v.sshPort, ip: v.privateIp }));
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
