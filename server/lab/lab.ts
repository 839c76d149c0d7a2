// The lab: the domain's one front door. The panel's routers, REST routes and sockets, and the CLI, use only this
// file (plus spec.ts and errors.ts): the Lab class and the re-exports at the bottom. Built from the lab home on disk,
// one per panel process or CLI invocation. The import rule is checked by server/imports.test.ts.
import fs from 'node:fs';
import { Bus } from './bus.ts';
import { LabHome, ensureHome, type HomeInfo } from './home.ts';
import { runDoctor, type DoctorReport } from './host.ts';
import { Jobs, type JobHandle } from './jobs.ts';
import { Vms, type LabFacts, type VmView } from './vm/lifecycle.ts';
import { createVm, type CreatedVm } from './vm/create.ts';
import { powerOn, readyTitle } from './vm/power.ts';
import { VmWatcher } from './watch.ts';
import { ensureLabConfig, updateLabConfig, type LabConfig } from './config.ts';
import type { AccelMode } from './accel/choose.ts';
import { networkBackend } from './network/backend.ts';
import { ConflictError } from './errors.ts';
import type { NetworkBackend } from './network/types.ts';
import { sshArgv } from './ssh/config.ts';
import { shq } from './provisioner/remote.ts';
import { Provisioner, type Artifact } from './provisioner/service.ts';
import { bootPathsOf, explainTarget, type ExplainOptions } from './provisioner/netboot.ts';
import type { BootPath } from './provisioner/bootpath.ts';
import type { Explanation } from './provisioner/explain.ts';
import { Snapshots, type SnapshotInfo } from './vm/snapshots.ts';
import type { BootProfileInput, Lease, Reservation, ReservationInput } from './provisioner/pxe.ts';
import { BrokenRecordError, NotFoundError, checkVmName, listRecords, type BrokenRecord } from './store.ts';
import { sweepHome } from './sweep.ts';
import { hostArch, type Arch, type VmStatus } from './spec.ts';
import type { StopStep } from './qemu/process.ts';
import type { LogBytes, LogText } from './consolelog.ts';
import { consoleLogBytes, consoleLogFile, consoleLogText } from './vm/console-log.ts';
import { upLab } from './up/execute.ts';
import { resetLab, type ResetResult } from './up/reset.ts';
import { setCatalogueProfile } from './up/profile.ts';
import { setInstallProfile, uploadDiskImage } from './up/install-profile.ts';
import { isInstallProfile } from './provisioner/install.ts';
import { defaultLab, type ImageChoice } from './up/desired.ts';
import { vmTimeline } from './timeline/service.ts';
import type { Timeline } from './timeline/types.ts';


export class Lab {
  readonly bus = new Bus();
  readonly jobs = new Jobs(this.bus);
  readonly vms: Vms;
  readonly provisioner: Provisioner;
  readonly snapshots: Snapshots;
  private watcher: VmWatcher | null = null;
  private doctorReport: Promise<DoctorReport> | null = null;

  constructor(readonly home: LabHome) {
    this.vms = new Vms(home, this.bus, this.jobs, () => this.doctor(), () => this.addressFacts());
    this.snapshots = new Snapshots(home);
    this.provisioner = new Provisioner({ home, bus: this.bus, vms: this.vms, snapshots: this.snapshots, sshArgv: (n, c) => this.sshArgv(n, c) });
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
   * Create a VM, with its DHCP reservation when it needs one (vm/create.ts: the adoption rule). Errors: ZodError /
   * BadRequestError (input), ConflictError (name, MAC, IP or reservation taken).
   */
  createVm(raw: unknown): Promise<CreatedVm> { return createVm({ home: this.home, vms: this.vms, provisioner: this.provisioner }, raw); }

  /** Reservations and the last known leases: what every view's private IP is read from (addressing.ts vmAddress). */
  addressFacts(): LabFacts {
    return { reservations: this.provisioner.usableReservations(), leases: this.provisioner.knownLeases() };
  }

  /** Does the lab's provisioner run now (its QEMU alive)? False when the lab has none. */
  private provisionerRunning(): boolean {
    return listRecords(this.home).some((r) => r.role === 'provisioner' && this.vms.status(r).status === 'running');
  }

  /** Read the DHCP leases and any install reports again (only while the provisioner runs; never waits more than ~2 s). */
  private async refreshLeases(): Promise<void> {
    if (this.provisionerRunning()) await Promise.all([this.provisioner.leaseMap(), Promise.race([this.provisioner.absorbInstallReports(), new Promise((r) => setTimeout(r, 2000))])]);
    else this.provisioner.forgetLeases();
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

  /** Every VM with the addresses last known (no lease read): for quick lookups by name or MAC. */
  listVmsNow(): VmView[] { return this.vms.list(); }

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

  /** Power a VM on; the provisioner resumes its ready snapshot when it can (vm/power.ts). */
  powerOn(name: string, opts: { cold?: boolean } = {}): Promise<{ vm: VmView; warm: boolean }> {
    return powerOn({ vms: this.vms, provisioner: this.provisioner }, name, opts);
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

  /**
   * Re-provision a target: fresh disk, same MAC/IP/reservation/profile, boots (PXE) again. A target with an install
   * profile gets a new install armed first, so that boot installs onto the blank disk instead of booting it.
   */
  async reprovisionVm(name: string): Promise<VmView> {
    const vm = this.vms.get(name);
    if (vm.role === 'target' && this.provisioner.reservations().some((r) => r.mac === vm.mac && r.install)) await this.provisioner.rearmInstall(vm.mac);
    return this.vms.reprovision(name);
  }

  /**
   * Reset the whole lab to its ready state, as a job (up/reset.ts): the provisioner resumes its ready snapshot (PXE
   * files re-published), every running target is re-provisioned and followed until it answers SSH again. Needs the
   * ready snapshot (taken at the end of the provisioner's first start). `wrap` lets the CLI print stage lines.
   */
  resetLab(wrap: (job: JobHandle) => JobHandle = (j) => j): Promise<ResetResult> {
    return this.jobs.run({ kind: 'reset', title: 'Lab reset' }, (job) => resetLab(this, wrap(job)));
  }

  /** `pvmlab up` on the default lab as a job (the panel's "Start a lab"): returns its id at once; progress and cancel go through jobs. */
  startLab(opts: { arch?: Arch; targets?: number; image?: ImageChoice } = {}): { jobId: string } {
    if (this.jobs.list().some((j) => j.kind === 'up' && j.state === 'running')) throw new ConflictError('a lab is already being started: follow it in Jobs, or cancel it there');
    let jobId = '';
    this.jobs.run({ kind: 'up', title: 'Start a lab' }, (job) => { jobId = job.id; return upLab(this, defaultLab(opts), job); }).catch(() => {});
    return { jobId };
  }

  /**
   * Give a reservation an install profile (image, debian-preseed, ubuntu-autoinstall; up/install-profile.ts): what it
   * boots is uploaded when missing, and a new install is armed. `raw.sha256` may be omitted for an image (the
   * artifact's is used). Errors: BadRequestError naming the field, NotFoundError (no reservation).
   */
  async setInstallProfile(macAddr: string, raw: Record<string, unknown>): Promise<Reservation> {
    const r = this.provisioner.reservations().find((x) => x.mac === macAddr.toLowerCase());
    if (!r) throw new NotFoundError(`no reservation for ${macAddr}`);
    return setInstallProfile(this, r, this.vms.list().find((v) => v.mac === r.mac)?.arch ?? hostArch(), raw);
  }

  /** Upload a disk image for the image kind (a qcow2 is converted to raw on this host first); returns name, size, sha256. */
  uploadDiskImage(file: string, name?: string) { return uploadDiskImage(this, file, name); }

  /** Give a reservation a catalogue profile (`live`, the default; `debian-12-installer`; `netboot.xyz`): files fetched and uploaded when missing. */
  async setCatalogueProfile(macAddr: string, name: string) {
    const r = this.provisioner.reservations().find((x) => x.mac === macAddr.toLowerCase());
    if (!r) throw new NotFoundError(`no reservation for ${macAddr}`);
    return setCatalogueProfile(this, r, this.vms.list().find((v) => v.mac === r.mac)?.arch ?? hostArch(), name);
  }


  // ---------------------------------------------------------------- VM reads and stops
  config(): LabConfig { return this.vms.config(); }
  /** Record files that cannot be read, each with its file, reason and the command that removes it. */
  brokenRecords(): BrokenRecord[] { return this.vms.broken(); }
  /** A VM's status without the address facts (sockets check a name and a state with it). */
  vmStatus(name: string): VmStatus { return this.vms.get(name).status; }
  stopVm(name: string, opts: { force?: boolean; graceMs?: number } = {}): Promise<{ vm: VmView; step: StopStep | null }> { return this.vms.stop(name, opts); }
  /** QEMU's own run state over QMP ("running", "paused", …), null when it does not answer within 1.5 s. */
  qemuStatus(name: string): Promise<string | null> { return this.vms.queryStatus(name); }
  /** The console log as text on character boundaries (consolelog.ts readLogText). */
  consoleLog(name: string, offset: number, limit?: number): LogText { return consoleLogText(this.home, name, offset, limit); }
  /** Raw console log bytes from an offset (negative: from the end), never decoded. */
  consoleLogBytes(name: string, offset: number, limit?: number): LogBytes { return consoleLogBytes(this.home, name, offset, limit); }
  /** The whole console log as it is now, as a stream of its first `size` bytes (downloads). */
  consoleLogFile(name: string): { size: number; stream: NodeJS.ReadableStream } { return consoleLogFile(this.home, name); }

  // ---------------------------------------------------------------- the provisioner and its pxeboot stack
  provisionerName(): string { return this.provisioner.name(); }
  /** Can the provisioner resume its ready snapshot, and why (not)? */
  warmState(): Promise<{ usable: boolean; reason: string }> { return this.provisioner.warmState(); }
  /** Run (or follow) the provisioner's staged readiness in a job handle (CLI: `vm start --wait`, `vm docker start`). */
  provisionerReady(job: JobHandle, opts: { warm?: boolean; imageTar?: string } = {}): Promise<void> { return this.provisioner.ready(job, opts); }
  async dockerStatus() {
    const stack = this.provisioner.stack();
    return { container: await stack.state(), containers: await stack.containers() };
  }
  /** Start, stop or restart the pxeboot container; the PXE page hears of it. */
  async docker(action: 'start' | 'stop' | 'restart'): Promise<void> {
    await this.provisioner.stack()[action]();
    this.bus.emit('pxe', { kind: 'docker', at: new Date().toISOString() });
  }
  dockerLogs(tail: number): Promise<string> { return this.provisioner.stack().logs(tail); }

  // ---------------------------------------------------------------- PXE: reservations, boot profiles, leases, artifacts
  reservations(): Reservation[] { return this.provisioner.reservations(); }
  /** Add or change a MAC's reservation (provisioner/reservations.ts setReservation for the rules and errors). */
  setReservation(r: ReservationInput): Promise<Reservation> { return this.provisioner.setReservation(r); }
  removeReservation(mac: string): Promise<void> { return this.provisioner.removeReservation(mac); }
  /** Set a boot profile; an install kind goes through setInstallProfile (what it boots uploaded, a new install armed). */
  setProfile(mac: string, profile: BootProfileInput): Promise<Reservation> {
    return isInstallProfile(profile as Reservation['profile']) ? this.setInstallProfile(mac, profile as Record<string, unknown>) : this.provisioner.setProfile(mac, profile);
  }
  leases(): Promise<Lease[]> { return this.provisioner.leases(); }
  artifacts(): Promise<Artifact[]> { return this.provisioner.artifacts(); }
  /** Publish an artifact when exactly `size` bytes (and the sha256, if given) arrived (provisioner/upload.ts). */
  uploadArtifact(name: string, body: NodeJS.ReadableStream, o: { size: number; sha256?: string | null; signal?: AbortSignal }): Promise<void> {
    return this.provisioner.uploadArtifact(name, body, o);
  }
  removeArtifact(name: string): Promise<void> { return this.provisioner.removeArtifact(name); }
  /** The stack's call-home log (one line per live system that reported in). */
  callhomeLog(): Promise<string> { return this.provisioner.callhomeLog(); }
  /** The boot path each PXE target took last, by VM name, from dnsmasq's log (provisioner/netboot.ts); {} while the
   * provisioner is not running. */
  async bootPaths(): Promise<Record<string, BootPath | null>> {
    return this.provisionerRunning() ? bootPathsOf(this.vms.list(), await this.provisioner.stack().dhcpLog()) : {};
  }
  /** Profile dry-run: what a MAC or target gets from DHCP, TFTP/HTTP and its profile (provisioner/netboot.ts explainTarget). */
  explainBoot(who: string, o: ExplainOptions = {}): Explanation {
    return explainTarget(who, o, { vms: this.vms.list(), reservations: this.provisioner.reservations(), serverIp: this.vms.config().network.provisionerIp });
  }

  network(): NetworkBackend { return networkBackend(ensureLabConfig(this.home)); }

  /** The ssh command for a VM, as argv and as one shell line to copy (words quoted for sh). */
  sshCommand(name: string): { argv: string[]; command: string } {
    const argv = this.sshArgv(name);
    return { argv, command: argv.map(shq).join(' ') };
  }

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
    return this.rerunDoctor(false);
  }

  /** Re-check: the probe runs again (its cache is ignored and renewed). */
  recheck(): Promise<DoctorReport> { return this.rerunDoctor(true); }

  /** Run the doctor again (force: ignore the probe's cache) with the current overrides; the Setup page hears of it. */
  private async rerunDoctor(force: boolean): Promise<DoctorReport> {
    this.doctorReport = runDoctor({ force, overrides: this.accelOverrides() });
    const r = await this.doctorReport;
    this.bus.emit('host', { kind: 'doctor', checkedAt: r.checkedAt, ok: r.ok });
    return r;
  }

  /**
   * The boot flight recorder: one boot of VM `name` as stages on one time axis, with where it stopped and why
   * (timeline/types.ts). boot: 0 = the first boot in its console log, negative from the end (default -1, the last).
   * Reads the stack's logs over SSH when the provisioner runs. Errors: NotFoundError (no such VM or boot).
   */
  vmTimeline(name: string, opts: { boot?: number } = {}): Promise<Timeline> {
    checkVmName(name);
    return vmTimeline({
      home: this.home,
      vm: (n) => this.vms.get(n),
      provisioner: () => {
        const p = listRecords(this.home).find((r) => r.role === 'provisioner');
        return p && this.vms.status(p).status === 'running' ? this.provisioner.remote() : null;
      },
      reservation: (mac) => this.provisioner.reservations().find((r) => r.mac === mac) ?? null,
    }, name, opts);
  }

  async cleanLab(opts: { removeKey?: boolean } = {}) {
    const r = await this.vms.cleanLab(opts);
    await ensureHome(this.home);
    return r;
  }

  async close(): Promise<void> { this.watcher?.close(); }
}

// ---------------------------------------------------------------- the rest of the public surface
// What the outer layers (api/, http/, sockets/, cli/) use besides the Lab class: one list, so that the domain's
// public surface is readable in one place.
export type { VmView, LabFacts } from './vm/lifecycle.ts';
export type { Timeline, TimelineStage, TimelineEvent, Diagnosis } from './timeline/types.ts';
export { readyTitle } from './vm/power.ts';
export type { JobHandle, JobView } from './jobs.ts';
export type { DoctorReport } from './host.ts';
export type { HomeInfo } from './home.ts';
export type { Artifact } from './provisioner/service.ts';
export type { BootPath } from './provisioner/bootpath.ts';
export type { Explanation } from './provisioner/explain.ts';
export type { ExplainOptions } from './provisioner/netboot.ts';
export { LabHome } from './home.ts';
export { GUEST_ARCHES, accelMode, cpuModel, type GuestArch } from './accel/choose.ts';
export { artifactName, bootProfile, reservation, type BootProfile, type Reservation } from './provisioner/pxe.ts';
export { maxUploadBytes, sha256Hex } from './provisioner/upload.ts';
export { leadingContinuations } from './consolelog.ts';
export { BOOT_CATALOGUE, CATALOGUE_NAMES, catalogueName, catalogueOf } from './up/catalogue.ts';
export { describeInstall, isInstallProfile } from './provisioner/install.ts';
export { installSummary } from './provisioner/install-files.ts';
export { defaultLab, type DesiredLab } from './up/desired.ts';
export { describeAction, type Plan } from './up/plan.ts';
export { downLab, upLab, type UpResult } from './up/execute.ts';
export { LabFileError, labFileJsonSchema, parseLabFile } from './up/labfile.ts';
export { exportLab } from './up/export.ts';
export type { ResetResult } from './up/reset.ts';
export { offlineImageCacheDir } from './up/image.ts';
