// DHCP reservations and boot profiles: the host keeps the truth in configs/pxe.json (read-modify-write under a
// lab-wide lock); the provisioner gets files rendered from it (service.ts syncPxe).
import fs from 'node:fs';
import { z } from 'zod';
import { writeFileAtomic, type LabHome } from '../home.ts';
import { BadRequestError, ConflictError, NotFoundError } from '../errors.ts';
import { listRecords, withVmLock, writeRecord } from '../store.ts';
import { mac as macSchema, type VmRecord } from '../spec.ts';
import { addressPlan, ipHolders, ipProblem } from '../addressing.ts';
import type { LabConfig } from '../config.ts';
import { loadersFor, profileCmdlineProblem } from './cmdline.ts';
import { bootProfile, reservation, sameProfile, storedReservation, type Reservation } from './pxe.ts';
import { describeInstall, isInstallProfile } from './install.ts';
import { foldInstallReports, newInstallId, type InstallReport } from './install-reports.ts';

const pxeState = z.object({ reservations: z.array(storedReservation).default([]) });
type PxeState = z.infer<typeof pxeState>;

/** A kernel profile's cmdline must reach the kernel unchanged through the loader(s) its target boots with. */
function checkProfile(p: Reservation['profile'], owner: VmRecord | undefined): void {
  if (p.kind !== 'kernel' && p.kind !== 'debian-preseed' && p.kind !== 'ubuntu-autoinstall') return;
  const problem = profileCmdlineProblem(p.cmdline, loadersFor(owner?.arch ?? null));
  if (problem) throw new BadRequestError('profile.cmdline', problem);
}

export class Reservations {
  /** `changed` runs after every successful edit (the service re-publishes the PXE files when the provisioner runs). */
  constructor(private home: LabHome, private config: () => LabConfig, private changed: () => Promise<void>) {}

  private path(): string { return this.home.inside('configs', 'pxe.json'); }

  /** configs/pxe.json as it is; a broken file is a CONFLICT that names it and the fix. */
  state(): PxeState {
    let text: string;
    try { text = fs.readFileSync(this.path(), 'utf8'); } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { reservations: [] };
      throw e;
    }
    const r = (() => { try { return pxeState.safeParse(JSON.parse(text)); } catch (e) { return { success: false as const, error: e as Error }; } })();
    if (r.success) return r.data;
    const why = 'issues' in r.error ? (r.error as { issues: { path: PropertyKey[]; message: string }[] }).issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') : r.error.message;
    throw new ConflictError(`${this.path()} (the reservations and boot profiles) is broken: ${why} — fix it by hand, or move it aside to start with no reservations`);
  }

  /** Read-modify-write of configs/pxe.json under a lab-wide lock (the panel and a CLI never lose each other's edit). */
  private edit<T>(fn: (s: PxeState) => T): Promise<T> {
    return withVmLock(this.home, '_pxe', 'reservations', async () => {
      const s = this.state();
      const r = fn(s);
      writeFileAtomic(this.path(), JSON.stringify(s, null, 2) + '\n');
      return r;
    });
  }

  list(): Reservation[] { return this.state().reservations; }

  /**
   * The reservations dnsmasq is given and views read addresses from: those whose IP the address plan allows
   * for a target. One saved before the plan was checked (the provisioner's address, the network or broadcast
   * address, outside the subnet) is left out — dnsmasq would refuse, ignore or really offer it.
   */
  usable(): Reservation[] {
    const plan = addressPlan(this.config().network);
    return this.list().filter((r) => !ipProblem(plan, r.ip, { role: 'target', mac: r.mac, holders: [], adopting: true }));
  }

  /**
   * Add or change the reservation of a MAC (compared case- and separator-insensitively). The IP passes the
   * one validator (addressing.ts) against every VM record and every other reservation; a change keeps the
   * existing boot profile unless one is given; a VM that owns the MAC gets the new IP in its record too.
   * Errors: ZodError / BadRequestError (input, address plan), ConflictError (IP or hostname held by another).
   */
  async set(raw: unknown): Promise<Reservation> {
    const r = reservation.parse(raw);
    await this.edit((s) => {
      const existing = s.reservations.find((x) => x.mac === r.mac);
      // An edit that leaves the profile as it is (no profile given, or the same one) keeps the install state: an
      // installed target must not install again because its IP or hostname changed. A new install profile arms one.
      const sameAsBefore = existing && ((raw as { profile?: unknown }).profile === undefined || sameProfile(existing.profile, r.profile));
      if (existing && sameAsBefore) Object.assign(r, { profile: existing.profile, ...(existing.install ? { install: existing.install } : {}) });
      else if (isInstallProfile(r.profile)) Object.assign(r, { install: { id: newInstallId(), status: 'pending' } });
      const records = listRecords(this.home);
      const owner = records.find((v) => v.mac === r.mac);
      if (owner?.role === 'provisioner' || records.some((v) => v.uplinkMac === r.mac)) {
        throw new BadRequestError('mac', `${r.mac} is a NIC of the provisioner, which has a fixed address and needs no reservation`);
      }
      const problem = ipProblem(addressPlan(this.config().network), r.ip,
        { role: 'target', mac: r.mac, holders: ipHolders(records, s.reservations), adopting: existing?.ip === r.ip });
      if (problem) throw problem.code === 'CONFLICT' ? new ConflictError(`ip: ${problem.message}`) : new BadRequestError('ip', problem.message);
      checkProfile(r.profile, owner);
      const clash = s.reservations.find((x) => x.mac !== r.mac && x.hostname === r.hostname);
      if (clash) throw new ConflictError(`hostname: '${r.hostname}' is already the hostname of the reservation for ${clash.mac} (${clash.ip})`);
      s.reservations = [...s.reservations.filter((x) => x.mac !== r.mac), r];
      if (owner && owner.ip !== r.ip) writeRecord(this.home, { ...owner, ip: r.ip });
    });
    await this.changed();
    return r;
  }

  /** A new VM takes over the existing reservation of its MAC: IP and profile stay, the hostname becomes the VM's. */
  async adopt(macAddr: string, hostname: string): Promise<Reservation> {
    const m = macSchema.parse(macAddr);
    const r = this.list().find((x) => x.mac === m);
    if (!r) throw new NotFoundError(`no reservation for ${m}`);
    return this.set({ ...r, hostname });
  }

  /** Give a reserved MAC a boot profile. Errors: ZodError (profile), NotFoundError (no reservation), BadRequestError (cmdline). */
  async setProfile(macAddr: string, raw: unknown): Promise<Reservation> {
    const m = macSchema.parse(macAddr);
    const profile = bootProfile.parse(raw);
    const r = await this.edit((s) => {
      const x = s.reservations.find((y) => y.mac === m);
      if (!x) throw new NotFoundError(`no reservation for ${m}`);
      checkProfile(profile, listRecords(this.home).find((v) => v.mac === m));
      x.profile = profile;
      // An install profile arms a new install (its target installs at its next network boot); other kinds have none.
      if (isInstallProfile(profile)) x.install = { id: newInstallId(), status: 'pending' };
      else delete x.install;
      return x;
    });
    await this.changed();
    return r;
  }

  /**
   * Arm the install of a MAC again (re-provision: a blank disk installs anew). A new install id makes every earlier
   * report stale. Returns whether the reservation has an install profile (false: nothing to arm).
   */
  async rearmInstall(macAddr: string): Promise<boolean> {
    const m = macSchema.parse(macAddr);
    const armed = await this.edit((s) => {
      const x = s.reservations.find((y) => y.mac === m);
      if (!x || !isInstallProfile(x.profile)) return false;
      x.install = { id: newInstallId(), status: 'pending' };
      return true;
    });
    if (armed) await this.changed();
    return armed;
  }

  /** Fold install reports (install-reports.ts) into the reservations; returns those that changed. Publishes nothing. */
  foldInstallReports(reports: InstallReport[]): Promise<Reservation[]> {
    if (!this.list().some((r) => r.install && r.install.status !== 'installed')) return Promise.resolve([]);
    return this.edit((s) => {
      const changed = foldInstallReports(s.reservations, reports, (r) => (isInstallProfile(r.profile) ? describeInstall(r.profile) : r.profile.kind));
      s.reservations = s.reservations.map((r) => changed.find((c) => c.mac === r.mac) ?? r);
      return changed;
    });
  }

  /** Remove a reservation. One that a VM owns stays (its IP would silently stop being its IP): CONFLICT. */
  async remove(macAddr: string): Promise<void> {
    const m = macSchema.parse(macAddr);
    await this.edit((s) => {
      const owner = listRecords(this.home).find((v) => v.mac === m);
      if (owner) throw new ConflictError(`mac: the reservation for ${m} belongs to VM '${owner.name}' (its address ${owner.ip ?? '?'}): remove the VM (pvmlab vm clean ${owner.name}) to free it`);
      s.reservations = s.reservations.filter((x) => x.mac !== m);
    });
    await this.changed();
  }
}
