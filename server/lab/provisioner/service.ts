// The provisioner as a service of the lab: which VM it is, SSH into it, its pxeboot stack, and what the stack
// serves — reservations and boot profiles (reservations.ts, host truth), leases, artifacts — with readiness and
// the warm start in readiness.ts. It gets what it needs from the lab (ProvisionerDeps), not the whole Lab.
import type { Bus } from '../bus.ts';
import type { LabHome } from '../home.ts';
import type { JobHandle } from '../jobs.ts';
import { ConflictError, NotFoundError } from '../errors.ts';
import { listRecords } from '../store.ts';
import type { Vms } from '../vm/lifecycle.ts';
import type { Snapshots } from '../vm/snapshots.ts';
import { Remote } from './remote.ts';
import { Stack } from './stack.ts';
import { Readiness, type Stage } from './readiness.ts';
import { Reservations } from './reservations.ts';
import { artifactName, grubPathForMac, ipxePathForMac, parseLeases, renderGrubConfig, renderIpxeScript, renderReservations, type Lease, type Reservation } from './pxe.ts';

export interface ProvisionerDeps {
  home: LabHome;
  bus: Bus;
  vms: Vms;
  snapshots: Snapshots;
  /** ssh argv for a VM (ssh/config.ts): how commands reach the provisioner. */
  sshArgv: (name: string, command?: string[]) => string[];
}

/** An artifact served under /artifacts/ on the stack: name, size in bytes, sha256 hex. */
export interface Artifact { name: string; size: number; sha256: string }

export class Provisioner {
  private readonly readiness = new Readiness(this);
  private readonly table: Reservations;

  constructor(readonly deps: ProvisionerDeps) {
    this.table = new Reservations(deps.home, () => deps.vms.config(), () => this.syncIfRunning());
  }

  /** The lab's provisioner's name. Errors: NotFoundError when the lab has none. */
  name(): string {
    const p = listRecords(this.deps.home).find((v) => v.role === 'provisioner');
    if (!p) throw new NotFoundError('the lab has no provisioner: create one (pvmlab vm create <name> --role provisioner …)');
    return p.name;
  }

  remote(): Remote { return new Remote((n, c) => this.deps.sshArgv(n, c), this.name()); }
  stack(): Stack { return new Stack(this.remote(), this.deps.vms.config()); }

  private running(): string {
    const n = this.name();
    if (this.deps.vms.get(n).status !== 'running') throw new ConflictError(`the provisioner '${n}' is not running: start it first`);
    return n;
  }

  // ---------------------------------------------------------------- readiness and the warm start (readiness.ts)
  ready(job: JobHandle, opts: { imageTar?: string; warm?: boolean; timeouts?: Partial<Record<Stage, number>> } = {}): Promise<void> { return this.readiness.ready(job, opts); }
  warmState(): Promise<{ usable: boolean; reason: string }> { return this.readiness.warmState(); }
  dropWarm(): Promise<void> { return this.readiness.dropWarm(); }
  refreshWarm(): Promise<void> { return this.readiness.refreshWarm(); }

  // ---------------------------------------------------------------- reservations and profiles (reservations.ts)
  reservations(): Reservation[] { return this.table.list(); }
  usableReservations(): Reservation[] { return this.table.usable(); }
  setReservation(raw: unknown): Promise<Reservation> { return this.table.set(raw); }
  adoptReservation(mac: string, hostname: string): Promise<Reservation> { return this.table.adopt(mac, hostname); }
  setProfile(mac: string, raw: unknown): Promise<Reservation> { return this.table.setProfile(mac, raw); }
  removeReservation(mac: string): Promise<void> { return this.table.remove(mac); }

  private async syncIfRunning(): Promise<void> {
    let n: string;
    try { n = this.name(); } catch { return; }
    if (this.deps.vms.get(n).status !== 'running') return;
    if ((await this.stack().state()).running) await this.syncPxe();
  }

  /** Render the reservations and every target's boot scripts (iPXE, arm64 GRUB) into the provisioner; dnsmasq reloads. */
  async syncPxe(): Promise<void> {
    const reservations = this.usableReservations();
    const server = this.deps.vms.config().network.provisionerIp;
    await this.stack().publish([
      { rel: 'dnsmasq/reservations', content: renderReservations(reservations) },
      ...reservations.flatMap((r) => [
        { rel: `http/${ipxePathForMac(r.mac)}`, content: renderIpxeScript(r.profile, server, r.hostname) },
        { rel: `tftp/${grubPathForMac(r.mac)}`, content: renderGrubConfig(r.profile, r.hostname) },
      ]),
    ]);
    this.deps.bus.emit('pxe', { kind: 'reservations', at: new Date().toISOString() });
  }

  // ---------------------------------------------------------------- leases
  async leases(): Promise<Lease[]> {
    this.running();
    return parseLeases(await this.stack().readPxeFile('dnsmasq/leases'));
  }

  private leaseCache: { at: number; map: Map<string, string> } | null = null;
  private leaseRead: Promise<Map<string, string>> | null = null;

  /** MAC → IP from the leases, read at most every 3 s and never waiting more than 2 s for the provisioner. */
  leaseMap(): Promise<Map<string, string>> {
    if (this.leaseCache && Date.now() - this.leaseCache.at < 3000) return Promise.resolve(this.leaseCache.map);
    this.leaseRead ??= this.stack().readPxeFile('dnsmasq/leases', 2000)
      .then((t) => new Map(parseLeases(t).map((l) => [l.mac, l.ip] as [string, string])), () => new Map<string, string>())
      .then((map) => { this.leaseCache = { at: Date.now(), map }; return map; })
      .finally(() => { this.leaseRead = null; });
    return this.leaseRead;
  }

  /** The leases last read (for synchronous views; Lab.listVms / getVm read them again first). */
  knownLeases(): Map<string, string> { return this.leaseCache?.map ?? new Map(); }

  /** The provisioner is not running: no lease is current. */
  forgetLeases(): void { this.leaseCache = null; }

  // ---------------------------------------------------------------- artifacts
  async artifacts(): Promise<Artifact[]> {
    this.running();
    const out = await this.remote().run(['sh', '-c', 'cd /var/lib/pvmlab/pxe/http/artifacts 2>/dev/null && for f in *; do [ -f "$f" ] && printf "%s|%s|%s\\n" "$f" "$(stat -c %s "$f")" "$(sha256sum < "$f" | cut -d" " -f1)"; done; true'], { sudo: true });
    return out.split('\n').filter(Boolean).map((l) => { const [name, size, sha256] = l.split('|'); return { name, size: Number(size), sha256 }; });
  }

  /**
   * Publish an artifact only when exactly `size` bytes (and the sha256, if given) arrived (see upload.ts). Callers
   * that upload several pass `refreshWarm: false` to each and call refreshWarm() once at the end.
   */
  async uploadArtifact(name: string, body: NodeJS.ReadableStream, o: { size: number; sha256?: string | null; signal?: AbortSignal; refreshWarm?: boolean }): Promise<void> {
    const n = artifactName.parse(name);
    this.running();
    await this.stack().uploadPxeFile(`http/artifacts/${n}`, body, { size: o.size, sha256: o.sha256 ?? null, signal: o.signal });
    if (o.refreshWarm !== false) await this.refreshWarm();
    this.deps.bus.emit('pxe', { kind: 'artifacts', at: new Date().toISOString() });
  }

  async removeArtifact(name: string): Promise<void> {
    const n = artifactName.parse(name);
    this.running();
    await this.stack().removePxeFile(`http/artifacts/${n}`);
    await this.refreshWarm();
    this.deps.bus.emit('pxe', { kind: 'artifacts', at: new Date().toISOString() });
  }

  async callhomeLog(): Promise<string> { return this.stack().readPxeFile('http-callhome.log'); }
}
