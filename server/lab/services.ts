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
import type { Reservation } from './provisioner/pxe.ts';
import type { LabFacts, VmView } from './vms.ts';
import { ConflictError } from './errors.ts';
import { addressPlan, freeIp, ipHolders } from './addressing.ts';
import { listRecords } from './store.ts';
import { vmCreateInput } from './spec.ts';

/** A created VM, with what pvmlab did besides (e.g. adopted an existing reservation) for people to read. */
export type CreatedVm = VmView & { notes: string[] };

export class Lab {
  readonly bus = new Bus();
  readonly jobs = new Jobs(this.bus);
  readonly vms: Vms;
  readonly provisioner = new Provisioner(this);
  private watcher: VmWatcher | null = null;
  private doctorReport: Promise<DoctorReport> | null = null;

  constructor(readonly home: LabHome) {
    this.vms = new Vms(home, this.bus, this.jobs, () => this.doctor(), () => this.addressFacts());
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
    const vm = this.vms.get(name);
    await this.vms.clean(name);
    if (this.provisioner.reservations().some((r) => r.mac === vm.mac)) await this.provisioner.removeReservation(vm.mac).catch(() => {});
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

  /** Start a VM; for the provisioner, readiness runs as a job (awaited when wait is set). */
  async startVm(name: string, opts: { wait?: boolean; imageTar?: string } = {}): Promise<VmView> {
    const vm = await this.vms.start(name);
    if (vm.role === 'provisioner') {
      const ready = this.jobs.run({ kind: 'provisioner', title: `Provisioner ${name}: ready`, vm: name }, (job) => this.provisioner.ready(job, { imageTar: opts.imageTar }));
      if (opts.wait) await ready; else ready.catch(() => {});
    }
    return vm;
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
