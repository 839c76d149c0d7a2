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
import { Provisioner } from './provisioner/service.ts';
import { reservation } from './provisioner/pxe.ts';
import { ConflictError, NotFoundError } from './errors.ts';
import type { VmView } from './vms.ts';
import { upLab } from './up/execute.ts';
import { setCatalogueProfile } from './up/profile.ts';
import { defaultLab, type ImageChoice } from './up/desired.ts';
import { hostArch, type Arch } from './spec.ts';

export class Lab {
  readonly bus = new Bus();
  readonly jobs = new Jobs(this.bus);
  readonly vms: Vms;
  readonly provisioner = new Provisioner(this);
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
    const vm = this.vms.get(name);
    await this.vms.clean(name);
    if (this.provisioner.reservations().some((r) => r.mac === vm.mac)) await this.provisioner.removeReservation(vm.mac).catch(() => {});
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

  /** Start a VM; for the provisioner, readiness runs as a job (awaited when wait is set). */
  async startVm(name: string, opts: { wait?: boolean; imageTar?: string } = {}): Promise<VmView> {
    const vm = await this.vms.start(name);
    if (vm.role === 'provisioner') {
      const ready = this.jobs.run({ kind: 'provisioner', title: `Provisioner ${name}: ready`, vm: name }, (job) => this.provisioner.ready(job, { imageTar: opts.imageTar }));
      if (opts.wait) await ready; else ready.catch(() => {});
    }
    return vm;
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
    const ips = new Map(this.provisioner.reservations().map((r) => [r.mac, r.ip]));
    const vms = this.vms.list(ips).map((v) => ({ name: v.name, role: v.role, user: v.sshUser, sshPort: v.sshPort, ip: v.privateIp }));
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
