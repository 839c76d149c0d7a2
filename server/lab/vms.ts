// The VM lifecycle: create, start, stop, clean, status — records on disk, QEMU via plans, events on the bus.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { Readable } from 'node:stream';
import net from 'node:net';
import { execa } from 'execa';
import type { Bus } from './bus.ts';
import { ensureLabConfig, type LabConfig } from './config.ts';
import type { LabHome } from './home.ts';
import type { DoctorReport } from './host.ts';
import type { Jobs } from './jobs.ts';
import { networkBackend } from './network/backend.ts';
import { planQemu, type QemuPlan } from './qemu/plan.ts';
import { launchQemu, livePid, readPid, stopQemu, type StopStep } from './qemu/process.ts';
import { qmpOnce } from './qemu/qmp.ts';
import { BadRequestError } from './errors.ts';
import { ConflictError, getRecord, listRecords, readRecord, withVmLock, writeRecord } from './store.ts';
import { inSubnet, ipToInt, vmCreateInput, type VmRecord, type VmStatus } from './spec.ts';
import { prepareVmFiles } from './vmfiles.ts';


export interface VmView extends VmRecord {
  status: VmStatus;
  pid: number | null;
  privateIp: string | null;
  sshCommand: string | null;
}

const TRANSITIONS: Record<string, VmStatus> = { start: 'starting', stop: 'stopping', clean: 'stopping' };

export function randomMac(used: Set<string>): string {
  for (;;) {
    const b = crypto.randomBytes(3);
    const mac = `52:54:00:${[...b].map((x) => x.toString(16).padStart(2, '0')).join(':')}`;
    if (!used.has(mac)) return mac;
  }
}

export function freePort(exclude: Set<number>): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => (exclude.has(p) ? freePort(exclude).then(resolve, reject) : resolve(p)));
    });
  });
}

/** Last lines of a log file, at most maxBytes read from its end. */
export function logTail(file: string, lines = 20, maxBytes = 8192): string {
  let fd: number;
  try { fd = fs.openSync(file, 'r'); } catch { return ''; }
  try {
    const size = fs.fstatSync(fd).size;
    const len = Math.min(size, maxBytes);
    const buf = Buffer.alloc(len);
    fs.readSync(fd, buf, 0, len, size - len);
    return buf.toString('utf8').split(/\r?\n/).filter((l) => l.trim()).slice(-lines).join('\n');
  } finally {
    fs.closeSync(fd);
  }
}

export class Vms {
  constructor(private home: LabHome, private bus: Bus, private jobs: Jobs, private doctor: () => Promise<DoctorReport>) {}

  config(): LabConfig { return ensureLabConfig(this.home); }

  /** Status from disk and live processes: pid file + /proc check, the lock's operation, the crash mark. */
  status(rec: VmRecord): { status: VmStatus; pid: number | null } {
    const pidFile = this.home.vmPid(rec.name);
    const pid = livePid(pidFile);
    let op: string | undefined;
    try { op = fs.readFileSync(this.home.vmLock(rec.name), 'utf8').split('\n')[1]; } catch { /* no lock */ }
    if (op && TRANSITIONS[op]) return { status: TRANSITIONS[op], pid };
    if (pid) return { status: 'running', pid };
    if (rec.crash) return { status: 'crashed', pid: null };
    if (readPid(pidFile) !== null) return { status: 'crashed', pid: null }; // a pid file without its QEMU
    return { status: 'stopped', pid: null };
  }

  view(rec: VmRecord, ips: Map<string, string> = new Map()): VmView {
    const { status, pid } = this.status(rec);
    return this.addressed({ ...rec, status, pid, privateIp: null, sshCommand: null }, ips);
  }

  /** Fill in the private IP (record, reservation or lease) and the ssh command it makes possible. */
  addressed(v: VmView, ips: Map<string, string>): VmView {
    const privateIp = v.ip ?? ips.get(v.mac) ?? null;
    const reachable = v.role === 'provisioner' ? !!v.sshPort : !!privateIp;
    return { ...v, privateIp, sshCommand: reachable ? `ssh -F ${this.home.dir('configs')}/ssh_config ${v.name}` : null };
  }

  list(leases?: Map<string, string>): VmView[] { return listRecords(this.home).map((r) => this.view(r, leases)); }
  get(name: string): VmView { return this.view(getRecord(this.home, name)); }

  private emit(name: string, status: VmStatus, detail?: string): void {
    this.bus.emit('vm', { name, status, detail, at: new Date().toISOString() });
  }

  async create(raw: unknown): Promise<VmView> {
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
      if (input.mac && macs.has(input.mac)) throw new ConflictError(`mac: ${input.mac} is already used by another VM of the lab`);
      const ip = input.ip ?? (input.role === 'provisioner' ? cfg.network.provisionerIp : undefined);
      if (ip) this.checkIp(ip, input.role, cfg, all);
      const mac = input.mac ?? randomMac(macs);
      macs.add(mac);
      const provisioner = input.role === 'provisioner';
      const rec: VmRecord = {
        version: 1, name: input.name, role: input.role, arch: input.arch, cpus: input.cpus, memoryMiB: input.memory,
        diskSizeMiB: input.diskSize, boot, image: null, kernel: input.kernel ?? null, initrd: input.initrd ?? null,
        append: input.append ?? null, mac, uplinkMac: provisioner ? randomMac(macs) : null, ip: ip ?? null,
        sshPort: provisioner ? await freePort(new Set(all.map((r) => r.sshPort ?? 0))) : null,
        sshUser: input.sshUser, createdAt: new Date().toISOString(), crash: null,
      };
      for (const [field, p] of [['kernel', rec.kernel], ['initrd', rec.initrd]] as const) {
        if (p && !fs.statSync(p, { throwIfNoEntry: false })?.isFile()) throw new BadRequestError(field, `no such file: ${p}`);
      }
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

  private checkIp(ip: string, role: VmRecord['role'], cfg: LabConfig, all: VmRecord[]): void {
    const subnet = cfg.network.subnet;
    if (!inSubnet(ip, subnet)) throw new BadRequestError('ip', `${ip} is not a host address of the private network ${subnet}`);
    if (role === 'target' && ip === cfg.network.provisionerIp) throw new ConflictError(`ip: ${ip} is the provisioner's address`);
    const n = ipToInt(ip);
    if (role === 'target' && n >= ipToInt(cfg.network.dhcpStart) && n <= ipToInt(cfg.network.dhcpEnd)) {
      throw new BadRequestError('ip', `${ip} is inside the dynamic DHCP range ${cfg.network.dhcpStart}–${cfg.network.dhcpEnd}; reserve an address outside it (e.g. .2–.99)`);
    }
    const other = all.find((r) => r.ip === ip);
    if (other) throw new ConflictError(`ip: ${ip} is already used by '${other.name}'`);
  }

  async plan(rec: VmRecord): Promise<QemuPlan> {
    const doctor = await this.doctor();
    const cfg = this.config();
    const h = this.home;
    const disk = fs.existsSync(h.vmDisk(rec.name)) ? h.vmDisk(rec.name) : null;
    const seed = fs.existsSync(h.vmSeedIso(rec.name)) ? h.vmSeedIso(rec.name) : null;
    return planQemu({
      vm: rec,
      paths: { qmp: h.vmQmp(rec.name), events: h.vmEvents(rec.name), serial: h.vmSerial(rec.name), log: h.vmLog(rec.name), pid: h.vmPid(rec.name), disk, seed },
      accel: doctor.accelerators[rec.arch].accelerator,
      aarch64Firmware: doctor.firmware.find((f) => f.name === 'aarch64 UEFI')?.path ?? null,
      privateNic: (o) => networkBackend(cfg).privateNicArgs(o),
    });
  }

  async start(name: string): Promise<VmView> {
    return withVmLock(this.home, name, 'start', async () => {
      const rec = getRecord(this.home, name);
      const pidFile = this.home.vmPid(name);
      if (livePid(pidFile)) throw new ConflictError(`VM '${name}' is already running`);
      if (rec.boot === 'pxe') await this.forgetHostKey(name);
      this.emit(name, 'starting');
      const plan = await this.plan(rec);
      for (const f of [pidFile, this.home.vmQmp(name), this.home.vmEvents(name), this.home.vmSerial(name)]) fs.rmSync(f, { force: true });
      fs.appendFileSync(this.home.vmLog(name), `\n=== pvmlab: power on ${new Date().toISOString()} ===\n`);
      try {
        await launchQemu(plan, pidFile, networkBackend(this.config()).wrapper());
      } catch (e) {
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

  /** A PXE target boots whatever its profile serves (a live system makes new SSH host keys at every boot): forget the last one. */
  private async forgetHostKey(name: string): Promise<void> {
    if (!fs.existsSync(this.home.knownHosts)) return;
    await execa('ssh-keygen', ['-R', `pvmlab-${name}`, '-f', this.home.knownHosts], { reject: false });
    fs.rmSync(`${this.home.knownHosts}.old`, { force: true });
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
    const rec = readRecord(this.home, name);
    if (!rec) return;
    const tail = logTail(this.home.vmLog(name));
    writeRecord(this.home, { ...rec, crash: { at: new Date().toISOString(), logTail: tail } });
    this.cleanRuntime(name);
    this.emit(name, 'crashed', tail.split('\n').slice(-3).join('\n'));
  }

  async clean(name: string): Promise<void> {
    await withVmLock(this.home, name, 'clean', async () => {
      const rec = getRecord(this.home, name);
      await this.stopLocked(rec, { force: true });
      for (const f of this.home.vmFiles(name)) if (f !== this.home.vmLock(name)) fs.rmSync(f, { force: true, recursive: true });
      // A VM made again under this name gets new host keys: forget the old ones.
      if (fs.existsSync(this.home.knownHosts)) {
        await execa('ssh-keygen', ['-R', `pvmlab-${name}`, '-f', this.home.knownHosts], { reject: false });
        fs.rmSync(`${this.home.knownHosts}.old`, { force: true });
      }
    });
    this.emit(name, 'stopped', 'removed');
  }

  /** The console log as it is now, byte for byte (for downloads): a stream of its first `size` bytes. */
  logFile(name: string): { size: number; stream: NodeJS.ReadableStream } {
    getRecord(this.home, name);
    let fd: number;
    try { fd = fs.openSync(this.home.vmLog(name), 'r'); } catch { return { size: 0, stream: Readable.from([]) }; }
    const size = fs.fstatSync(fd).size;
    if (size === 0) { fs.closeSync(fd); return { size, stream: Readable.from([]) }; }
    return { size, stream: fs.createReadStream('', { fd, start: 0, end: size - 1 }) };
  }

  /** Bytes of the console log from an offset (for pages and `vm logs`). */
  log(name: string, offset: number, limit = 256 * 1024): { data: string; offset: number; size: number } {
    getRecord(this.home, name);
    const file = this.home.vmLog(name);
    let fd: number;
    try { fd = fs.openSync(file, 'r'); } catch { return { data: '', offset: 0, size: 0 }; }
    try {
      const size = fs.fstatSync(fd).size;
      const start = Math.min(Math.max(0, offset < 0 ? size + offset : offset), size);
      const len = Math.min(limit, size - start);
      const buf = Buffer.alloc(len);
      fs.readSync(fd, buf, 0, len, start);
      return { data: buf.toString('utf8'), offset: start + len, size };
    } finally {
      fs.closeSync(fd);
    }
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
  async cleanLab(opts: { removeKey?: boolean } = {}): Promise<{ removed: string[] }> {
    const names = listRecords(this.home).map((r) => r.name);
    for (const n of names) await this.clean(n);
    for (const d of fs.readdirSync(this.home.root)) {
      if (d === 'ssh' && !opts.removeKey) continue;
      fs.rmSync(this.home.inside(d), { recursive: true, force: true });
    }
    return { removed: names };
  }
}
