// The VM lifecycle: create, start, stop, clean, re-provision, status — records on disk, QEMU via plans, events on the bus.
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import type { Bus } from '../bus.ts';
import { ensureLabConfig, type LabConfig } from '../config.ts';
import type { LabHome } from '../home.ts';
import { launchHint, vmAccel, type AccelChoice, type DoctorReport } from '../host.ts';
import { AccelOverrideError, accelFromArgv, type Candidate } from '../accel/choose.ts';
import type { Jobs } from '../jobs.ts';
import { networkBackend } from '../network/backend.ts';
import { planQemu, type QemuPlan } from '../qemu/plan.ts';
import { LaunchError, launchQemu, liveQemu, livePid, readPid, stopQemu, type StopStep } from '../qemu/process.ts';
import { qmpOnce } from '../qemu/qmp.ts';
import { BadRequestError } from '../errors.ts';
import { BrokenRecordError, ConflictError, NotFoundError, getRecord, lockHolder, listRecords, readRecord, scanRecords, withVmLock, writeRecord, type BrokenRecord } from '../store.ts';
import { vmCreateInput, vmName, type VmRecord, type VmStatus } from '../spec.ts';
import { addressPlan, ipHolders, ipProblem, vmAddress, type AddressFacts } from '../addressing.ts';
import { shq } from '../provisioner/remote.ts';
import { ensureUefiVars, freshDisk, prepareVmFiles } from './files.ts';
import { chooseFirmware, FirmwareError, firmwareFields, ovmfFromDoctor, type VmFirmwarePlan } from '../firmware.ts';
import { ensureRunDir, removeRunDir } from '../rundir.ts';
import { planClean } from '../home-guard.ts';
import { appendNoFollow, refuseLinks } from '../nofollow.ts';
import { ensureConsoleClock } from '../timeline/console-clock-daemon.ts';
import { checkBootFiles, portFree } from '../preflight.ts';
import { freePort, randomMac } from './allocate.ts';
import { logTail } from './console-log.ts';
import type { Reservation } from '../provisioner/pxe.ts';
import { installSummary } from '../provisioner/install-files.ts';


export interface VmView extends VmRecord {
  status: VmStatus;
  pid: number | null;
  /** The accelerator and CPU model the running QEMU was started with (read from its argv), or null when not running. */
  runningAccel: Candidate | null;
  privateIp: string | null;
  sshCommand: string | null;
  /** Install to disk (PXE targets with an install profile): its state and "installed <when> from <profile>"; else null. */
  install: InstallView | null;
}

export interface InstallView { status: 'pending' | 'installed' | 'failed'; at: string | null; from: string | null; reason: string | null; summary: string }

const TRANSITIONS: Record<string, VmStatus> = { start: 'starting', stop: 'stopping', clean: 'stopping', reprovision: 'starting' };

/** What addresses are read from (addressing.ts): reservations (with hostnames, for messages) and known leases. */
export type LabFacts = AddressFacts & { reservations: { mac: string; ip: string; hostname: string; install?: Reservation['install'] }[] };

export class Vms {
  constructor(private home: LabHome, private bus: Bus, private jobs: Jobs, private doctor: () => Promise<DoctorReport>,
    private facts: () => LabFacts = () => ({ reservations: [], leases: new Map() })) {}

  config(): LabConfig { return ensureLabConfig(this.home); }

  /** Status from disk and live processes: pid file + /proc check, the lock's operation, the crash mark. */
  status(rec: VmRecord): { status: VmStatus; pid: number | null; argv?: string[] } {
    const pidFile = this.home.vmPid(rec.name);
    const live = liveQemu(pidFile);
    const pid = live?.pid ?? null;
    // A transition only while its lock's owner lives (a panel killed mid-start leaves a stale lock).
    const op = lockHolder(this.home.vmLock(rec.name))?.op;
    if (op && TRANSITIONS[op]) return { status: TRANSITIONS[op], pid, argv: live?.argv };
    if (live) return { status: 'running', pid, argv: live.argv };
    if (rec.crash) return { status: 'crashed', pid: null };
    if (readPid(pidFile) !== null) return { status: 'crashed', pid: null }; // a pid file without its QEMU
    return { status: 'stopped', pid: null };
  }

  /** A record as pages, the CLI and sockets see it: status, and the private IP from the one rule (addressing.ts vmAddress). */
  view(rec: VmRecord, facts: { reservations: { mac: string; ip: string; install?: Reservation['install'] }[]; leases: AddressFacts['leases'] } = this.facts()): VmView {
    const { status, pid, argv } = this.status(rec);
    const privateIp = vmAddress(rec, facts);
    const reachable = rec.role === 'provisioner' ? !!rec.sshPort : !!privateIp;
    const sshCommand = reachable ? ['ssh', '-F', `${this.home.dir('configs')}/ssh_config`, rec.name].map(shq).join(' ') : null;
    const res = rec.role === 'target' ? facts.reservations.find((r) => r.mac === rec.mac) : undefined;
    const i = res?.install;
    const install = i ? { status: i.status, at: i.at ?? null, from: i.from ?? null, reason: i.reason ?? null, summary: installSummary({ install: i })! } : null;
    return { ...rec, status, pid, runningAccel: argv ? accelFromArgv(argv) : null, privateIp, sshCommand, install };
  }

  list(): VmView[] {
    const facts = this.facts();
    return listRecords(this.home).map((r) => this.view(r, facts));
  }
  /** Record files that cannot be read, each with its file, reason and the command that removes it. */
  broken(): BrokenRecord[] { return scanRecords(this.home).broken; }
  get(name: string): VmView { return this.view(getRecord(this.home, name)); }

  private emit(name: string, status: VmStatus, detail?: string): void {
    this.bus.emit('vm', { name, status, detail, at: new Date().toISOString() });
  }

  /**
   * Create a VM record and its files. The IP (given, or the plan's for the provisioner) passes the one
   * validator (addressing.ts ipProblem) against every VM record and reservation. opts.adopting: the IP is
   * an existing reservation's for this MAC (Lab.createVm), so the dynamic-range rule does not apply.
   * Errors: ZodError (input), BadRequestError (ip, image, kernel…), ConflictError (name, provisioner, mac, ip).
   */
  async create(raw: unknown, opts: { adopting?: boolean } = {}): Promise<VmView> {
    const parsed = vmCreateInput.safeParse(raw);
    if (!parsed.success) throw parsed.error;
    const input = parsed.data;
    const cfg = this.config();
    const boot = input.boot ?? (input.kernel ? 'kernel' : 'disk');
    // One lab-wide lock: uniqueness of names, the provisioner, MACs, IPs and ports is checked and claimed atomically.
    return withVmLock(this.home, '_lab', 'create', async () => {
      if (readRecord(this.home, input.name)) throw new ConflictError(`name: a VM named '${input.name}' already exists`);
      const all = listRecords(this.home);
      if (input.role === 'provisioner') {
        const p = all.find((r) => r.role === 'provisioner');
        if (p) throw new ConflictError(`role: the lab already has a provisioner ('${p.name}'); a lab has exactly one`);
      }
      const macs = new Set(all.flatMap((r) => [r.mac, r.uplinkMac].filter((m): m is string => !!m)));
      const macOwner = input.mac ? all.find((r) => r.mac === input.mac || r.uplinkMac === input.mac) : undefined;
      if (macOwner) throw new ConflictError(`mac: ${input.mac} is already used by VM '${macOwner.name}'`);
      const ip = input.ip ?? (input.role === 'provisioner' ? cfg.network.provisionerIp : undefined);
      if (ip) {
        const problem = ipProblem(addressPlan(cfg.network), ip, { role: input.role, mac: input.mac ?? null, holders: ipHolders(all, this.facts().reservations), adopting: opts.adopting });
        if (problem) throw problem.code === 'CONFLICT' ? new ConflictError(`ip: ${problem.message}`) : new BadRequestError('ip', problem.message);
      }
      const mac = input.mac ?? randomMac(macs);
      macs.add(mac);
      const provisioner = input.role === 'provisioner';
      const rec: VmRecord = {
        version: 1, name: input.name, role: input.role, arch: input.arch, cpus: input.cpus, memoryMiB: input.memory,
        diskSizeMiB: input.diskSize, boot, image: null, kernel: input.kernel ?? null, initrd: input.initrd ?? null,
        append: input.append ?? null, mac, uplinkMac: provisioner ? randomMac(macs) : null, ip: ip ?? null,
        sshPort: provisioner ? await freePort(new Set(all.map((r) => r.sshPort ?? 0))) : null,
        sshUser: input.sshUser ?? (boot === 'pxe' ? 'root' : 'pvmlab'), createdAt: new Date().toISOString(), accel: input.accel ?? null, crash: null,
        ...firmwareFields({ ...input, boot }),
      };
      checkBootFiles(rec);
      await this.firmware(rec); // a host without the firmware this VM asks for: say so now, not at its first start
      const made: string[] = [];
      try {
        rec.image = await prepareVmFiles({ home: this.home, rec, imageRef: input.image ?? null, cfg, jobs: this.jobs, made });
        writeRecord(this.home, rec);
      } catch (e) {
        for (const f of made) fs.rmSync(f, { force: true });
        throw e;
      }
      this.emit(rec.name, 'stopped', 'created');
      return this.view(rec);
    });
  }

  /** The accelerator a VM starts with; an override that cannot apply is a BAD_REQUEST naming the fix. */
  async accel(rec: VmRecord): Promise<AccelChoice> {
    const doctor = await this.doctor();
    try {
      return vmAccel(doctor, rec.arch, rec.accel);
    } catch (e) {
      if (e instanceof AccelOverrideError) throw new BadRequestError('accel', e.message);
      throw e;
    }
  }

  /** The firmware a VM boots with on this host (firmware.ts); a missing one is a BAD_REQUEST naming the package. */
  async firmware(rec: VmRecord): Promise<VmFirmwarePlan> {
    try {
      return chooseFirmware(rec, ovmfFromDoctor((await this.doctor()).firmware));
    } catch (e) {
      if (e instanceof FirmwareError) throw new BadRequestError(e.field, e.message);
      throw e;
    }
  }

  async plan(rec: VmRecord, accel?: AccelChoice, loadvm?: string | null): Promise<QemuPlan> {
    const doctor = await this.doctor();
    const firmware = await this.firmware(rec);
    const use = accel ?? await this.accel(rec);
    const cfg = this.config();
    const h = this.home;
    const disk = fs.existsSync(h.vmDisk(rec.name)) ? h.vmDisk(rec.name) : null;
    const seed = fs.existsSync(h.vmSeedIso(rec.name)) ? h.vmSeedIso(rec.name) : null;
    return planQemu({
      vm: rec,
      paths: { qmp: h.vmQmp(rec.name), events: h.vmEvents(rec.name), serial: h.vmSerial(rec.name), log: h.vmLog(rec.name), pid: h.vmPid(rec.name), disk, seed,
        vars: firmware.kind === 'ovmf' ? h.vmVars(rec.name) : null },
      firmware,
      accel: { accel: use.accelerator, cpu: use.cpu },
      loadvm,
      aarch64Firmware: doctor.firmware.find((f) => f.name === 'aarch64 UEFI')?.path ?? null,
      privateNic: (o) => networkBackend(cfg).privateNicArgs(o),
    });
  }

  /** Start a VM; `loadvm` resumes it from one of its running snapshots instead of booting. */
  async start(name: string, opts: { loadvm?: string | null } = {}): Promise<VmView> {
    return withVmLock(this.home, name, 'start', async () => {
      let rec = getRecord(this.home, name);
      const pidFile = this.home.vmPid(name);
      if (livePid(pidFile)) throw new ConflictError(`VM '${name}' is already running`);
      refuseLinks([this.home.vmLog(name), this.home.vmDisk(name), this.home.vmSeedIso(name), this.home.vmVars(name)]);
      checkBootFiles(rec);
      if (rec.boot === 'pxe') await this.forgetHostKey(name);
      this.emit(name, 'starting');
      rec = await this.freeSshPort(rec);
      const accel = await this.accel(rec);
      const plan = await this.plan(rec, accel, opts.loadvm);
      const fw = await this.firmware(rec);
      if (fw.kind === 'ovmf') ensureUefiVars(this.home, name, fw.build.vars); // its own NVRAM, made at its first start
      ensureRunDir(this.home.runDir); // QEMU's sockets go there (recreated if /tmp was emptied since)
      for (const f of [pidFile, this.home.vmQmp(name), this.home.vmEvents(name), this.home.vmSerial(name)]) fs.rmSync(f, { force: true });
      await ensureConsoleClock(this.home.root, this.home.runDir); // times the console log (timeline/console-clock.ts)
      appendNoFollow(this.home.vmLog(name), `\n=== pvmlab: ${opts.loadvm ? `resume from snapshot ${opts.loadvm}` : 'power on'} ${new Date().toISOString()} ===\n`);
      try {
        await launchQemu(plan, pidFile, networkBackend(this.config()).wrapper());
      } catch (e) {
        this.cleanRuntime(name); // a failed launch leaves no pid file and no sockets
        if (e instanceof LaunchError && accel.accelerator !== 'tcg') e.message += ` — ${launchHint(accel)}`;
        this.emit(name, rec.crash ? 'crashed' : 'stopped', (e as Error).message);
        throw e;
      }
      if (rec.crash) writeRecord(this.home, { ...rec, crash: null });
      const view = this.view({ ...rec, crash: null });
      view.status = 'running';
      this.emit(name, 'running');
      return view;
    });
  }

  /**
   * Re-provision: power off, throw the disk away (a blank disk for a PXE target, a fresh overlay on the base image
   * otherwise, its snapshots with it), keep the record (MAC, IP, reservation, profile), start again.
   */
  async reprovision(name: string): Promise<VmView> {
    await withVmLock(this.home, name, 'reprovision', async () => {
      const rec = getRecord(this.home, name);
      if (rec.role === 'provisioner') throw new ConflictError(`'${name}' is the provisioner: re-provision targets (the provisioner resets from its ready snapshot)`);
      await this.stopLocked(rec, { force: true });
      if (!(await freshDisk(this.home, rec))) throw new BadRequestError('vm', `'${name}' has no disk to re-provision (a kernel-boot VM without an image): just restart it`);
      await this.forgetHostKey(name); // a fresh disk means a fresh install: new SSH host keys
      appendNoFollow(this.home.vmLog(name), `\n=== pvmlab: re-provision (fresh disk) ${new Date().toISOString()} ===\n`);
    });
    return this.start(name);
  }

  /** Drop the VM's entry from the lab's known_hosts: its host keys are about to change (a fresh disk; a PXE live
   * system makes new ones at every boot). */
  private async forgetHostKey(name: string): Promise<void> {
    // The connection master of the old boot is dead: close it, or the next ssh first prints "read from master failed".
    const sshConfig = path.join(this.home.dir('configs'), 'ssh_config');
    if (fs.existsSync(sshConfig)) await execa('ssh', ['-F', sshConfig, '-O', 'exit', name], { reject: false, timeout: 10_000 });
    if (!fs.existsSync(this.home.knownHosts)) return;
    await execa('ssh-keygen', ['-R', `pvmlab-${name}`, '-f', this.home.knownHosts], { reject: false, timeout: 30_000 });
    fs.rmSync(`${this.home.knownHosts}.old`, { force: true });
  }

  /** The provisioner's SSH forward port, moved to a free one if something else (another user?) took it. */
  private async freeSshPort(rec: VmRecord): Promise<VmRecord> {
    if (!rec.sshPort || await portFree(rec.sshPort)) return rec;
    const sshPort = await freePort(new Set(listRecords(this.home).map((r) => r.sshPort ?? 0)));
    const moved = { ...rec, sshPort };
    writeRecord(this.home, moved);
    this.emit(rec.name, 'starting', `SSH port ${rec.sshPort} is taken by another program: using ${sshPort}`);
    return moved;
  }

  async stop(name: string, opts: { force?: boolean; graceMs?: number } = {}): Promise<{ vm: VmView; step: StopStep | null }> {
    return withVmLock(this.home, name, 'stop', async () => {
      const rec = getRecord(this.home, name);
      const step = await this.stopLocked(rec, opts);
      const vm = this.view(rec);
      vm.status = vm.crash ? 'crashed' : 'stopped';
      return { vm, step };
    });
  }

  private async stopLocked(rec: VmRecord, opts: { force?: boolean; graceMs?: number }): Promise<StopStep | null> {
    this.jobs.cancelFor(rec.name); // its readiness job (if any) ends with it
    const pidFile = this.home.vmPid(rec.name);
    const pid = livePid(pidFile);
    if (!pid) { this.cleanRuntime(rec.name); return null; }
    this.emit(rec.name, 'stopping');
    const step = await stopQemu(pid, this.home.vmQmp(rec.name), { graceMs: opts.graceMs ?? 30_000, force: opts.force });
    this.cleanRuntime(rec.name);
    this.emit(rec.name, 'stopped', `stopped by ${step}`);
    return step;
  }

  /** After QEMU is gone: pid file and sockets go. */
  private cleanRuntime(name: string): void {
    for (const f of [this.home.vmPid(name), this.home.vmQmp(name), this.home.vmEvents(name), this.home.vmSerial(name)]) fs.rmSync(f, { force: true });
  }

  /** QEMU exited cleanly on its own (guest poweroff): drop its pid file and sockets. */
  settleStopped(name: string): void {
    if (!livePid(this.home.vmPid(name))) this.cleanRuntime(name);
  }

  /** Mark a VM crashed (QEMU vanished without a clean stop), with its log tail. */
  markCrashed(name: string): void {
    let rec: VmRecord | null = null;
    try { rec = readRecord(this.home, name); } catch (e) { if (!(e instanceof BrokenRecordError)) throw e; }
    if (!rec) { this.cleanRuntime(name); return; }
    const tail = logTail(this.home.vmLog(name));
    writeRecord(this.home, { ...rec, crash: { at: new Date().toISOString(), logTail: tail } });
    this.cleanRuntime(name);
    this.emit(name, 'crashed', tail.split('\n').slice(-3).join('\n'));
  }

  async clean(name: string): Promise<void> {
    await withVmLock(this.home, name, 'clean', async () => {
      // A broken record, or none at all but files left of the name (an interrupted create), is cleaned too.
      let rec: VmRecord | null = null;
      try { rec = readRecord(this.home, name); } catch (e) { if (!(e instanceof BrokenRecordError)) throw e; }
      const lock = this.home.vmLock(name);
      const left = this.home.vmFiles(name).filter((f) => f !== lock && fs.lstatSync(f, { throwIfNoEntry: false }));
      if (!rec && !left.length) throw new NotFoundError(`no VM named '${name}' (see: pvmlab vm list)`);
      await this.stopLocked(rec ?? ({ name } as VmRecord), { force: true });
      for (const f of this.home.vmFiles(name)) if (f !== this.home.vmLock(name)) fs.rmSync(f, { force: true, recursive: true });
      // A VM made again under this name gets new host keys: forget the old ones.
      await this.forgetHostKey(name);
    });
    this.emit(name, 'stopped', 'removed');
  }

  async queryStatus(name: string): Promise<string | null> {
    try {
      const r = await qmpOnce<{ status: string }>(this.home.vmQmp(name), 'query-status', undefined, 1500);
      return r.status;
    } catch {
      return null;
    }
  }

  /** Stop every VM and empty the home; the key pair stays unless asked. */
  async cleanLab(opts: { removeKey?: boolean } = {}): Promise<{ removed: string[]; entries: string[]; left: string[] }> {
    // Broken records too: a VM whose record broke may still run, and clean() stops it by its pid file.
    const { records, broken } = scanRecords(this.home);
    const names = [...records.map((r) => r.name), ...broken.map((b) => b.name).filter((n) => vmName.safeParse(n).success)];
    for (const n of names) await this.clean(n);
    // Only pvmlab's own entries (home-guard.ts): anything else in the folder is left and reported.
    const plan = planClean(fs.readdirSync(this.home.root), !!opts.removeKey);
    for (const d of plan.remove) fs.rmSync(this.home.inside(d), { recursive: true, force: true });
    removeRunDir(this.home.runDir);
    return { removed: names, entries: plan.remove.map((d) => this.home.inside(d)), left: plan.leave };
  }
}
