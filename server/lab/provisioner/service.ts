// The provisioner as a service of the lab: staged readiness, the pxeboot container, reservations,
// leases, artifacts and boot profiles. The host keeps the truth (configs/pxe.json); the provisioner
// gets files rendered from it over SSH.
import fs from 'node:fs';
import { z } from 'zod';
import type { Lab } from '../services.ts';
import { writeFileAtomic } from '../home.ts';
import type { JobHandle } from '../jobs.ts';
import { BadRequestError, ConflictError, NotFoundError } from '../errors.ts';
import { logTail } from '../vms.ts';
import { listRecords, withVmLock, writeRecord } from '../store.ts';
import { mac as macSchema } from '../spec.ts';
import { addressPlan, ipHolders, ipProblem } from '../addressing.ts';
import { loadersFor, profileCmdlineProblem } from './cmdline.ts';
import type { VmRecord } from '../spec.ts';
import { Remote } from './remote.ts';
import { Stack, stackHash } from './stack.ts';
import crypto from 'node:crypto';
import { artifactName, bootProfile, grubPathForMac, ipxePathForMac, renderGrubConfig, parseLeases, renderIpxeScript, renderReservations, reservation, storedReservation, type Lease, type Reservation } from './pxe.ts';

const pxeState = z.object({ reservations: z.array(storedReservation).default([]) });
type PxeState = z.infer<typeof pxeState>;

export const STAGES = ['booted', 'ssh', 'cloud-init', 'docker', 'image', 'container', 'clock', 'snapshot'] as const;

/** The provisioner's "ready" snapshot (RAM + disk), taken at the end of its first successful start: warm starts resume it. */
export const WARM_SNAPSHOT = 'pvmlab-ready';
export type Stage = (typeof STAGES)[number];

export class StageTimeout extends Error {
  constructor(readonly stage: Stage, seconds: number, tail: string) {
    super(`provisioner not ready: stage '${stage}' did not finish within ${seconds} s. Last lines:\n${tail}`);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A kernel profile's cmdline must reach the kernel unchanged through the loader(s) its target boots with. */
function checkProfile(p: Reservation['profile'], owner: VmRecord | undefined): void {
  if (p.kind !== 'kernel') return;
  const problem = profileCmdlineProblem(p.cmdline, loadersFor(owner?.arch ?? null));
  if (problem) throw new BadRequestError('profile.cmdline', problem);
}

export class Provisioner {
  constructor(private lab: Lab) {}

  name(): string {
    const p = listRecords(this.lab.home).find((v) => v.role === 'provisioner');
    if (!p) throw new NotFoundError('the lab has no provisioner: create one (pvmlab vm create <name> --role provisioner …)');
    return p.name;
  }

  remote(): Remote { return new Remote((n, c) => this.lab.sshArgv(n, c), this.name()); }
  stack(): Stack { return new Stack(this.remote(), this.lab.vms.config()); }

  private running(): string {
    const n = this.name();
    if (this.lab.vms.get(n).status !== 'running') throw new ConflictError(`the provisioner '${n}' is not running: start it first`);
    return n;
  }

  // ---------------------------------------------------------------- warm start (the ready snapshot)
  private warmMetaPath(name: string): string { return this.lab.home.inside('configs', `${name}.warm.json`); }

  /** What a ready snapshot depends on: the pxeboot stack's source and the lab's network config. */
  private warmKey(): { stack: string; network: string } {
    return { stack: stackHash(), network: crypto.createHash('sha256').update(JSON.stringify(this.lab.vms.config().network)).digest('hex').slice(0, 16) };
  }

  /**
   * Can the provisioner resume from its ready snapshot? It must exist on its disk, and the stack and network
   * config must be the ones it was taken with (else it is stale: removed, and the next start is cold).
   */
  async warmState(): Promise<{ usable: boolean; reason: string }> {
    const name = this.name();
    let meta: { stack: string; network: string; takenAt: string } | null = null;
    try { meta = JSON.parse(fs.readFileSync(this.warmMetaPath(name), 'utf8')); } catch { /* none */ }
    const snaps = await this.lab.snapshots.list(name).catch(() => []);
    const snap = snaps.find((x) => x.name === WARM_SNAPSHOT && x.kind === 'running');
    if (!snap || !meta) return { usable: false, reason: 'no ready snapshot yet (it is taken at the end of the first successful start)' };
    const key = this.warmKey();
    if (meta.stack !== key.stack) return { usable: false, reason: 'the pxeboot stack changed since the ready snapshot' };
    if (meta.network !== key.network) return { usable: false, reason: "the lab's network config changed since the ready snapshot" };
    return { usable: true, reason: `ready snapshot of ${meta.takenAt}` };
  }

  /** Forget the ready snapshot (stale, or the user asked for a cold start): the next successful start takes a new one. */
  async dropWarm(): Promise<void> {
    const name = this.name();
    fs.rmSync(this.warmMetaPath(name), { force: true });
    if ((await this.lab.snapshots.list(name).catch(() => [])).some((x) => x.name === WARM_SNAPSHOT)) {
      await this.lab.snapshots.remove(name, WARM_SNAPSHOT);
    }
  }

  /**
   * Staged readiness: VM booted → SSH → cloud-init done → Docker → image → container healthy, then the PXE files
   * published and, the first time, the ready snapshot taken. `warm`: the VM was resumed from that snapshot, so
   * only booted → SSH → clock (the guest's clock is set to the host's) → container healthy → publish run.
   */
  async ready(job: JobHandle, opts: { imageTar?: string; warm?: boolean; timeouts?: Partial<Record<Stage, number>> } = {}): Promise<void> {
    const name = this.name();
    const remote = this.remote();
    const t = { booted: 60, ssh: 600, 'cloud-init': 900, docker: 600, image: 3600, container: 180, clock: 60, snapshot: 600, ...opts.timeouts };
    const stage = async (s: Stage, fn: () => Promise<boolean>, tail: () => Promise<string>) => {
      job.stage(s);
      const end = Date.now() + t[s] * 1000;
      for (;;) {
        if (job.signal.aborted) throw new Error('cancelled');
        if (await fn().catch(() => false)) return;
        if (Date.now() > end) throw new StageTimeout(s, t[s], await tail().catch(() => '(no log)'));
        await sleep(1000);
      }
    };
    const serialTail = async () => logTail(this.lab.home.vmLog(name), 15);
    const remoteTail = (cmd: string[]) => async () => (await remote.code(cmd, { sudo: true, timeoutMs: 15_000 })).stdout.trim().split('\n').slice(-15).join('\n');
    await stage('booted', async () => (await this.lab.vms.queryStatus(name)) === 'running', serialTail);
    await stage('ssh', async () => (await remote.code(['true'], { timeoutMs: 20_000 })).code === 0, serialTail);
    if (opts.warm) {
      // The snapshot's clock is the moment it was taken: set the guest's to the host's (UTC, whole seconds).
      await stage('clock', async () => (await remote.code(['date', '-u', '-s', `@${Math.floor(Date.now() / 1000)}`], { sudo: true, timeoutMs: 20_000 })).code === 0, serialTail);
      const stack = this.stack();
      await stage('container', async () => { await stack.waitHealthy(t.container * 1000); return true; }, () => stack.logs(20));
      await this.syncPxe();
      return;
    }
    await stage('cloud-init', async () => {
      const r = await remote.code(['cloud-init', 'status', '--wait'], { timeoutMs: t['cloud-init'] * 1000 });
      if (/status: (done|degraded)/.test(r.stdout)) return true;
      if (/status: error/.test(r.stdout)) throw new StageTimeout('cloud-init', 0, await remoteTail(['tail', '-n', '30', '/var/log/cloud-init-output.log'])());
      return false;
    }, remoteTail(['tail', '-n', '30', '/var/log/cloud-init-output.log']));
    await stage('docker', async () => (await remote.code(['docker', 'info', '--format', '{{.ServerVersion}}'], { sudo: true, timeoutMs: 20_000 })).code === 0,
      remoteTail(['journalctl', '-u', 'docker', '-n', '20', '--no-pager']));
    const stack = this.stack();
    let image: string | undefined;
    const buildLog: string[] = [];
    await stage('image', async () => {
      if (opts.imageTar) { image = await stack.load(opts.imageTar); job.log(`loaded ${image}`); return true; }
      const built = await stack.build((l) => { buildLog.push(l); if (buildLog.length > 50) buildLog.shift(); job.log(l); }, job.signal);
      job.log(built ? 'image built' : 'image up to date');
      return true;
    }, async () => buildLog.slice(-15).join('\n'));
    await stage('container', async () => { await stack.up(image, t.container * 1000); return true; }, () => stack.logs(20));
    await this.syncPxe();
    if (!(await this.warmState()).usable) {
      job.stage('snapshot');
      try {
        await this.takeWarm();
        job.log(`ready snapshot '${WARM_SNAPSHOT}' taken: the next start resumes from it`);
      } catch (e) {
        job.log(`no ready snapshot (the next start is cold): ${(e as Error).message}`);
      }
    }
  }

  /** (Re)take the ready snapshot of the running provisioner, with what it depends on. */
  private async takeWarm(): Promise<void> {
    const name = this.name();
    await this.dropWarm();
    const key = this.warmKey();
    await this.lab.snapshots.take(name, WARM_SNAPSHOT, { internal: true });
    writeFileAtomic(this.warmMetaPath(name), JSON.stringify({ ...key, takenAt: new Date().toISOString() }, null, 2) + '\n');
  }

  /**
   * Artifacts live only on the provisioner's disk: after one is added or removed, a ready snapshot would bring the
   * old set back on the next warm start, so it is taken again (about a second; the VM pauses while RAM is saved).
   * Callers that upload several artifacts pass `refreshWarm: false` to each and call this once at the end.
   */
  async refreshWarm(): Promise<void> {
    if (!fs.existsSync(this.warmMetaPath(this.name()))) return;
    try { await this.takeWarm(); } catch { await this.dropWarm().catch(() => {}); }
  }

  // ---------------------------------------------------------------- reservations and profiles (host truth)
  private statePath(): string { return this.lab.home.inside('configs', 'pxe.json'); }

  state(): PxeState {
    let text: string;
    try { text = fs.readFileSync(this.statePath(), 'utf8'); } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { reservations: [] };
      throw e;
    }
    const r = (() => { try { return pxeState.safeParse(JSON.parse(text)); } catch (e) { return { success: false as const, error: e as Error }; } })();
    if (r.success) return r.data;
    const why = 'issues' in r.error ? (r.error as { issues: { path: PropertyKey[]; message: string }[] }).issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') : r.error.message;
    throw new ConflictError(`${this.statePath()} (the reservations and boot profiles) is broken: ${why} — fix it by hand, or move it aside to start with no reservations`);
  }

  private save(s: PxeState): void { writeFileAtomic(this.statePath(), JSON.stringify(s, null, 2) + '\n'); }

  /** Read-modify-write of configs/pxe.json under a lab-wide lock (the panel and a CLI never lose each other's edit). */
  private edit<T>(fn: (s: PxeState) => T): Promise<T> {
    return withVmLock(this.lab.home, '_pxe', 'reservations', async () => {
      const s = this.state();
      const r = fn(s);
      this.save(s);
      return r;
    });
  }

  reservations(): Reservation[] { return this.state().reservations; }

  /**
   * The reservations dnsmasq is given and views read addresses from: those whose IP the address plan allows
   * for a target. One saved before the plan was checked (the provisioner's address, the network or broadcast
   * address, outside the subnet) is left out — dnsmasq would refuse, ignore or really offer it.
   */
  usableReservations(): Reservation[] {
    const plan = addressPlan(this.lab.vms.config().network);
    return this.reservations().filter((r) => !ipProblem(plan, r.ip, { role: 'target', mac: r.mac, holders: [], adopting: true }));
  }

  /**
   * Add or change the reservation of a MAC (compared case- and separator-insensitively). The IP passes the
   * one validator (addressing.ts) against every VM record and every other reservation; a change keeps the
   * existing boot profile unless one is given; a VM that owns the MAC gets the new IP in its record too.
   * Errors: ZodError / BadRequestError (input, address plan), ConflictError (IP or hostname held by another).
   */
  async setReservation(raw: unknown): Promise<Reservation> {
    const r = reservation.parse(raw);
    await this.edit((s) => {
      const existing = s.reservations.find((x) => x.mac === r.mac);
      if (existing && (raw as { profile?: unknown }).profile === undefined) r.profile = existing.profile;
      const records = listRecords(this.lab.home);
      const owner = records.find((v) => v.mac === r.mac);
      if (owner?.role === 'provisioner' || records.some((v) => v.uplinkMac === r.mac)) {
        throw new BadRequestError('mac', `${r.mac} is a NIC of the provisioner, which has a fixed address and needs no reservation`);
      }
      const problem = ipProblem(addressPlan(this.lab.vms.config().network), r.ip,
        { role: 'target', mac: r.mac, holders: ipHolders(records, s.reservations), adopting: existing?.ip === r.ip });
      if (problem) throw problem.code === 'CONFLICT' ? new ConflictError(`ip: ${problem.message}`) : new BadRequestError('ip', problem.message);
      checkProfile(r.profile, owner);
      const clash = s.reservations.find((x) => x.mac !== r.mac && x.hostname === r.hostname);
      if (clash) throw new ConflictError(`hostname: '${r.hostname}' is already the hostname of the reservation for ${clash.mac} (${clash.ip})`);
      s.reservations = [...s.reservations.filter((x) => x.mac !== r.mac), r];
      if (owner && owner.ip !== r.ip) writeRecord(this.lab.home, { ...owner, ip: r.ip });
    });
    await this.syncIfRunning();
    return r;
  }

  /** A new VM takes over the existing reservation of its MAC: IP and profile stay, the hostname becomes the VM's. */
  async adoptReservation(macAddr: string, hostname: string): Promise<Reservation> {
    const m = macSchema.parse(macAddr);
    const r = this.reservations().find((x) => x.mac === m);
    if (!r) throw new NotFoundError(`no reservation for ${m}`);
    return this.setReservation({ ...r, hostname });
  }

  async setProfile(macAddr: string, raw: unknown): Promise<Reservation> {
    const m = macSchema.parse(macAddr);
    const profile = bootProfile.parse(raw);
    const r = await this.edit((s) => {
      const x = s.reservations.find((y) => y.mac === m);
      if (!x) throw new NotFoundError(`no reservation for ${m}`);
      checkProfile(profile, listRecords(this.lab.home).find((v) => v.mac === m));
      x.profile = profile;
      return x;
    });
    await this.syncIfRunning();
    return r;
  }

  /** Remove a reservation. One that a VM owns stays (its IP would silently stop being its IP): CONFLICT. */
  async removeReservation(macAddr: string): Promise<void> {
    const m = macSchema.parse(macAddr);
    await this.edit((s) => {
      const owner = listRecords(this.lab.home).find((v) => v.mac === m);
      if (owner) throw new ConflictError(`mac: the reservation for ${m} belongs to VM '${owner.name}' (its address ${owner.ip ?? '?'}): remove the VM (pvmlab vm clean ${owner.name}) to free it`);
      s.reservations = s.reservations.filter((x) => x.mac !== m);
    });
    await this.syncIfRunning();
  }

  private async syncIfRunning(): Promise<void> {
    let n: string;
    try { n = this.name(); } catch { return; }
    if (this.lab.vms.get(n).status !== 'running') return;
    if ((await this.stack().state()).running) await this.syncPxe();
  }

  /** Render the reservations and every target's boot scripts (iPXE, arm64 GRUB) into the provisioner; dnsmasq reloads. */
  async syncPxe(): Promise<void> {
    const reservations = this.usableReservations();
    const server = this.lab.vms.config().network.provisionerIp;
    await this.stack().publish([
      { rel: 'dnsmasq/reservations', content: renderReservations(reservations) },
      ...reservations.flatMap((r) => [
        { rel: `http/${ipxePathForMac(r.mac)}`, content: renderIpxeScript(r.profile, server, r.hostname) },
        { rel: `tftp/${grubPathForMac(r.mac)}`, content: renderGrubConfig(r.profile, r.hostname) },
      ]),
    ]);
    this.lab.bus.emit('pxe', { kind: 'reservations', at: new Date().toISOString() });
  }

  // ---------------------------------------------------------------- leases
  async leases(): Promise<Lease[]> {
    this.running();
    return parseLeases(await this.stack().readPxeFile('dnsmasq/leases'));
  }

  private leaseCache: { at: number; map: Promise<Map<string, string>> } | null = null;
  private lastLeases = new Map<string, string>();

  /** MAC → IP from the leases, read at most every 3 s and never waiting more than 2 s for the provisioner. */
  leaseMap(): Promise<Map<string, string>> {
    if (this.leaseCache && Date.now() - this.leaseCache.at < 3000) return this.leaseCache.map;
    const map = this.stack().readPxeFile('dnsmasq/leases', 2000)
      .then((t) => new Map(parseLeases(t).map((l) => [l.mac, l.ip] as [string, string])), () => new Map<string, string>());
    this.leaseCache = { at: Date.now(), map };
    void map.then((m) => { this.lastLeases = m; });
    return map;
  }

  /** The leases last read (for synchronous views; Lab.listVms / getVm read them again first). */
  knownLeases(): Map<string, string> { return this.lastLeases; }

  /** The provisioner is not running: no lease is current. */
  forgetLeases(): void { this.lastLeases = new Map(); this.leaseCache = null; }

  // ---------------------------------------------------------------- artifacts
  async artifacts(): Promise<{ name: string; size: number; sha256: string }[]> {
    this.running();
    const out = await this.remote().run(['sh', '-c', 'cd /var/lib/pvmlab/pxe/http/artifacts 2>/dev/null && for f in *; do [ -f "$f" ] && printf "%s|%s|%s\\n" "$f" "$(stat -c %s "$f")" "$(sha256sum < "$f" | cut -d" " -f1)"; done; true'], { sudo: true });
    return out.split('\n').filter(Boolean).map((l) => { const [name, size, sha256] = l.split('|'); return { name, size: Number(size), sha256 }; });
  }

  /** Publish an artifact only when exactly `size` bytes (and the sha256, if given) arrived (see upload.ts). */
  async uploadArtifact(name: string, body: NodeJS.ReadableStream, o: { size: number; sha256?: string | null; signal?: AbortSignal; refreshWarm?: boolean }): Promise<void> {
    const n = artifactName.parse(name);
    this.running();
    await this.stack().uploadPxeFile(`http/artifacts/${n}`, body, { size: o.size, sha256: o.sha256 ?? null, signal: o.signal });
    if (o.refreshWarm !== false) await this.refreshWarm();
    this.lab.bus.emit('pxe', { kind: 'artifacts', at: new Date().toISOString() });
  }

  async removeArtifact(name: string): Promise<void> {
    const n = artifactName.parse(name);
    this.running();
    await this.stack().removePxeFile(`http/artifacts/${n}`);
    await this.refreshWarm();
    this.lab.bus.emit('pxe', { kind: 'artifacts', at: new Date().toISOString() });
  }

  async callhomeLog(): Promise<string> { return this.stack().readPxeFile('http-callhome.log'); }
}
