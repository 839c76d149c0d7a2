// The provisioner as a service of the lab: staged readiness, the pxeboot container, reservations,
// leases, artifacts and boot profiles. The host keeps the truth (configs/pxe.json); the provisioner
// gets files rendered from it over SSH.
import fs from 'node:fs';
import { z } from 'zod';
import type { Lab } from '../services.ts';
import { writeFileAtomic } from '../home.ts';
import type { JobHandle } from '../jobs.ts';
import { ConflictError, NotFoundError } from '../errors.ts';
import { logTail } from '../vms.ts';
import { listRecords } from '../store.ts';
import { Remote } from './remote.ts';
import { Stack, stackHash } from './stack.ts';
import crypto from 'node:crypto';
import { artifactName, bootProfile, grubPathForMac, ipxePathForMac, renderGrubConfig, parseLeases, renderIpxeScript, renderReservations, reservation, type Lease, type Reservation } from './pxe.ts';

const pxeState = z.object({ reservations: z.array(reservation).default([]) });
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
   * old set back on the next warm start, so it is taken again (a few seconds; the VM pauses while RAM is saved).
   */
  private async refreshWarm(): Promise<void> {
    if (!fs.existsSync(this.warmMetaPath(this.name()))) return;
    try { await this.takeWarm(); } catch { await this.dropWarm().catch(() => {}); }
  }

  // ---------------------------------------------------------------- reservations and profiles (host truth)
  private statePath(): string { return this.lab.home.inside('configs', 'pxe.json'); }

  state(): PxeState {
    try { return pxeState.parse(JSON.parse(fs.readFileSync(this.statePath(), 'utf8'))); } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { reservations: [] };
      throw e;
    }
  }

  private save(s: PxeState): void { writeFileAtomic(this.statePath(), JSON.stringify(s, null, 2) + '\n'); }

  reservations(): Reservation[] { return this.state().reservations; }

  /** Add or replace a reservation (by MAC); pushes it to dnsmasq when the provisioner runs. */
  async setReservation(raw: unknown): Promise<Reservation> {
    const r = reservation.parse(raw);
    const s = this.state();
    const clash = s.reservations.find((x) => x.mac !== r.mac && (x.ip === r.ip || x.hostname === r.hostname));
    if (clash) throw new ConflictError(`ip/hostname: ${clash.ip} (${clash.hostname}) is already reserved for ${clash.mac}`);
    s.reservations = [...s.reservations.filter((x) => x.mac !== r.mac), r];
    this.save(s);
    await this.syncIfRunning();
    return r;
  }

  async setProfile(macAddr: string, raw: unknown): Promise<Reservation> {
    const profile = bootProfile.parse(raw);
    const s = this.state();
    const r = s.reservations.find((x) => x.mac === macAddr.toLowerCase());
    if (!r) throw new NotFoundError(`no reservation for ${macAddr}`);
    r.profile = profile;
    this.save(s);
    await this.syncIfRunning();
    return r;
  }

  async removeReservation(macAddr: string): Promise<void> {
    const s = this.state();
    const m = macAddr.toLowerCase();
    s.reservations = s.reservations.filter((x) => x.mac !== m);
    this.save(s);
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
    const { reservations } = this.state();
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

  /** MAC → IP for running provisioners (empty otherwise): used for targets' private IPs. */
  private leaseCache: { at: number; map: Promise<Map<string, string>> } | null = null;

  /** MAC → IP from the leases, read at most every 3 s and never waiting more than 2 s for the provisioner. */
  leaseMap(): Promise<Map<string, string>> {
    if (this.leaseCache && Date.now() - this.leaseCache.at < 3000) return this.leaseCache.map;
    const map = this.stack().readPxeFile('dnsmasq/leases', 2000)
      .then((t) => new Map(parseLeases(t).map((l) => [l.mac, l.ip] as [string, string])), () => new Map<string, string>());
    this.leaseCache = { at: Date.now(), map };
    return map;
  }

  // ---------------------------------------------------------------- artifacts
  async artifacts(): Promise<{ name: string; size: number; sha256: string }[]> {
    this.running();
    const out = await this.remote().run(['sh', '-c', 'cd /var/lib/pvmlab/pxe/http/artifacts 2>/dev/null && for f in *; do [ -f "$f" ] && printf "%s|%s|%s\\n" "$f" "$(stat -c %s "$f")" "$(sha256sum < "$f" | cut -d" " -f1)"; done; true'], { sudo: true });
    return out.split('\n').filter(Boolean).map((l) => { const [name, size, sha256] = l.split('|'); return { name, size: Number(size), sha256 }; });
  }

  /** Publish an artifact only when exactly `size` bytes (and the sha256, if given) arrived (see upload.ts). */
  async uploadArtifact(name: string, body: NodeJS.ReadableStream, o: { size: number; sha256?: string | null; signal?: AbortSignal }): Promise<void> {
    const n = artifactName.parse(name);
    this.running();
    await this.stack().uploadPxeFile(`http/artifacts/${n}`, body, { size: o.size, sha256: o.sha256 ?? null, signal: o.signal });
    await this.refreshWarm();
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
