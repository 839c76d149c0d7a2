// The up/apply planner (pure): the lab a user asks for vs the lab on disk → the actions that converge
// them, in order. Nothing that exists and matches is recreated; nothing is removed unless `prune` is set.
import { sameProfile, type BootProfile, type Reservation } from '../provisioner/pxe.ts';
import type { Arch, BootMode, Role, VmStatus } from '../spec.ts';
import type { DesiredProvisioner, DesiredTarget } from './desired.ts';

/** A target whose `live` profile has been rendered to a concrete one (or null: no profile). */
export interface ResolvedTarget extends Omit<DesiredTarget, 'profile'> {
  profile: BootProfile | null;
  /** The profile's catalogue entry needs this much memory (MiB) to boot (catalogue.ts minMemoryMiB). */
  needsMemoryMiB?: number;
}

/** A file the provisioner must serve under /artifacts/<name> (the live profile's kernel and initrd). */
export interface WantedArtifact {
  name: string;
  /** Absent: must already be on the provisioner. */
  path?: string;
  sha256: string;
  /** For stage lines ("live kernel"); the name when absent. */
  label?: string;
  /** Uploaded only when the provisioner has no file of that name (a default the user may replace: an autoinstall seed). */
  ifAbsent?: boolean;
}

/** Does the provisioner's file (sha256, or undefined when absent) satisfy the wanted artifact? */
export function artifactPresent(a: WantedArtifact, remoteSha: string | undefined): boolean {
  return remoteSha !== undefined && (remoteSha === a.sha256 || !!a.ifAbsent);
}

/** "512M" / "2048M" / "4G" → MiB. */
function memoryMiB(m: string): number {
  const n = Number.parseFloat(m);
  return /g/i.test(m) ? n * 1024 : n;
}

/** A reservation for a machine pvmlab did not create, its profile resolved. */
export interface ResolvedReservation { mac: string; ip: string; hostname: string; profile: BootProfile | null }

export interface CurrentVm { name: string; role: Role; arch: Arch; boot: BootMode; mac: string; status: VmStatus; firmware?: 'bios' | 'uefi'; secureBoot?: boolean; netboot?: 'pxe' | 'http' }

export interface CurrentLab {
  vms: CurrentVm[];
  reservations: Reservation[];
  /** Is the pxeboot container healthy? null when nobody can tell (the provisioner is not running). */
  stackHealthy: boolean | null;
  /** Artifacts on the provisioner, name → sha256; null when unknown. */
  artifacts: Record<string, string> | null;
}

export interface PlanInput {
  provisioner: DesiredProvisioner;
  targets: ResolvedTarget[];
  artifacts: WantedArtifact[];
  reservations?: ResolvedReservation[];
  current: CurrentLab;
  /** Remove VMs that are not in the desired lab (apply --prune). */
  prune?: boolean;
  /** Live images to build inside the provisioner once its stack is healthy (hosts without apt; live-remote.ts). */
  liveBuilds?: Arch[];
}

export type Action =
  | { kind: 'create-provisioner'; name: string }
  | { kind: 'start'; name: string; role: Role }
  | { kind: 'stack'; name: string }
  | { kind: 'build-live'; arch: Arch; provisioner: string }
  | { kind: 'upload'; artifact: WantedArtifact }
  | { kind: 'create-target'; target: ResolvedTarget }
  | { kind: 'set-profile'; name: string; profile: BootProfile }
  | { kind: 'restart'; name: string }
  | { kind: 'wait-target'; name: string }
  | { kind: 'remove'; name: string }
  | { kind: 'set-reservation'; reservation: ResolvedReservation }
  | { kind: 'remove-reservation'; mac: string; hostname: string };

export interface Plan {
  /** In execution order; empty changes + only checks = nothing to change. */
  actions: Action[];
  /** Things left alone, for people ("prov: exists and runs"). */
  kept: string[];
  /** Warnings that change nothing ("target2 has no boot profile: it boots nothing until it gets one"). */
  notes: string[];
  /** Reasons the plan cannot run (an existing VM of that name is something else); nothing runs if any. */
  conflicts: string[];
}

export { sameProfile };

/** True when the plan changes something (anything other than checking targets answer). */
export function changes(plan: Plan): Action[] {
  return plan.actions.filter((a) => a.kind !== 'wait-target');
}

export function planUp(input: PlanInput): Plan {
  const { provisioner: want, current } = input;
  const actions: Action[] = [];
  const kept: string[] = [];
  const notes: string[] = [];
  const conflicts: string[] = [];
  const byName = new Map(current.vms.map((v) => [v.name, v]));

  // ---- the provisioner
  const existingProv = current.vms.find((v) => v.role === 'provisioner');
  let provWillRun = false;
  if (existingProv && existingProv.name !== want.name) {
    conflicts.push(`the lab already has a provisioner '${existingProv.name}' (wanted '${want.name}'): use that name, or remove it with pvmlab vm clean ${existingProv.name}`);
  } else if (!existingProv) {
    const clash = byName.get(want.name);
    if (clash) conflicts.push(`'${want.name}' exists but is a ${clash.role}: remove it (pvmlab vm clean ${want.name}) or choose another provisioner name`);
    else { actions.push({ kind: 'create-provisioner', name: want.name }, { kind: 'start', name: want.name, role: 'provisioner' }); provWillRun = true; }
  } else {
    if (existingProv.arch !== want.arch) notes.push(`${want.name} is ${existingProv.arch}, not ${want.arch}: left as it is (pvmlab vm clean ${want.name} to make it again)`);
    if (existingProv.status === 'running') kept.push(`${want.name}: exists and runs`);
    else { actions.push({ kind: 'start', name: want.name, role: 'provisioner' }); provWillRun = true; }
  }
  if (provWillRun || current.stackHealthy !== true) actions.push({ kind: 'stack', name: want.name });
  else kept.push(`${want.name}: pxeboot stack healthy`);
  for (const arch of input.liveBuilds ?? []) actions.push({ kind: 'build-live', arch, provisioner: want.name });

  // ---- artifacts the profiles need
  for (const a of input.artifacts) {
    if (current.artifacts && artifactPresent(a, current.artifacts[a.name])) kept.push(`artifact ${a.name}: present (${current.artifacts[a.name] === a.sha256 ? 'sha256 matches' : 'kept: yours'})`);
    else actions.push({ kind: 'upload', artifact: a });
  }

  // ---- targets
  const resByName = new Map(current.reservations.map((r) => [r.hostname, r]));
  for (const t of input.targets) {
    const vm = byName.get(t.name);
    if (vm && (vm.role !== 'target' || vm.boot !== 'pxe')) {
      conflicts.push(`'${t.name}' exists but is a ${vm.role} with ${vm.boot} boot, not a PXE target: remove it (pvmlab vm clean ${t.name}) or rename the target`);
      continue;
    }
    const fwNow = vm ? `${vm.firmware ?? 'bios'}${vm.secureBoot ? '+secure-boot' : ''}/${vm.netboot ?? 'pxe'}` : '';
    const fwWant = `${t.firmware ?? 'bios'}${t.secureBoot ? '+secure-boot' : ''}/${t.netboot ?? 'pxe'}`;
    if (vm && vm.arch === 'x86_64' && fwNow !== fwWant) notes.push(`${t.name} boots ${fwNow}, the lab file says ${fwWant}: left as it is (pvmlab vm clean ${t.name}, then up, makes it again)`);
    if (vm && t.mac && vm.mac !== t.mac) notes.push(`${t.name} has MAC ${vm.mac}, the lab file says ${t.mac}: left as it is (pvmlab vm clean ${t.name}, then up, makes it again)`);
    const ipNow = vm ? current.reservations.find((r) => r.mac === vm.mac)?.ip : undefined;
    if (vm && t.ip && ipNow && ipNow !== t.ip) notes.push(`${t.name} has IP ${ipNow}, the lab file says ${t.ip}: left as it is (pvmlab vm clean ${t.name}, then up, makes it again)`);
    if (!t.profile) notes.push(`${t.name} has no boot profile: it boots nothing until it gets one (pvmlab pxe profile ${t.name} …)`);
    if (t.needsMemoryMiB && memoryMiB(t.memory) < t.needsMemoryMiB) notes.push(`${t.name} has ${t.memory} of memory; its boot profile needs at least ${t.needsMemoryMiB}M: give it memory: ${t.needsMemoryMiB / 1024}G in the lab file (or vm clean it and make it again)`);
    if (!vm) {
      actions.push({ kind: 'create-target', target: t });
      if (t.profile) actions.push({ kind: 'set-profile', name: t.name, profile: t.profile }, { kind: 'start', name: t.name, role: 'target' }, { kind: 'wait-target', name: t.name });
      continue;
    }
    const res = current.reservations.find((r) => r.mac === vm.mac) ?? resByName.get(t.name);
    const profileChanged = !!t.profile && !sameProfile(res?.profile, t.profile);
    if (profileChanged) actions.push({ kind: 'set-profile', name: t.name, profile: t.profile! });
    if (!t.profile) { kept.push(`${t.name}: exists (${vm.status})`); continue; }
    if (vm.status !== 'running') actions.push({ kind: 'start', name: t.name, role: 'target' });
    else if (profileChanged) actions.push({ kind: 'restart', name: t.name });
    else kept.push(`${t.name}: exists, runs, profile unchanged`);
    actions.push({ kind: 'wait-target', name: t.name });
  }

  // ---- reservations for machines pvmlab did not create
  const vmMacs = new Set(current.vms.map((v) => v.mac));
  const wantedMacs = new Set((input.reservations ?? []).map((r) => r.mac));
  for (const r of input.reservations ?? []) {
    const now = current.reservations.find((x) => x.mac === r.mac);
    if (now && now.ip === r.ip && now.hostname === r.hostname && sameProfile(now.profile, r.profile)) kept.push(`reservation ${r.mac}: unchanged`);
    else actions.push({ kind: 'set-reservation', reservation: r });
  }
  for (const r of current.reservations) {
    if (vmMacs.has(r.mac) || wantedMacs.has(r.mac)) continue;
    if (input.prune) actions.push({ kind: 'remove-reservation', mac: r.mac, hostname: r.hostname });
    else kept.push(`reservation ${r.mac} (${r.hostname}): not asked for, left alone (apply --prune removes it)`);
  }

  // ---- what is not asked for
  const wanted = new Set([want.name, ...input.targets.map((t) => t.name)]);
  for (const v of current.vms) {
    if (wanted.has(v.name) || v.role === 'provisioner') continue;
    if (input.prune) actions.push({ kind: 'remove', name: v.name });
    else kept.push(`${v.name}: not asked for, left alone (apply --prune removes it)`);
  }
  return { actions, kept, notes, conflicts };
}

/** Down: stop what runs, targets first (they boot from the provisioner), the provisioner last. */
export function planDown(vms: CurrentVm[]): { stop: string[]; already: string[] } {
  const live = (v: CurrentVm) => v.status === 'running' || v.status === 'paused' || v.status === 'starting';
  const order = [...vms.filter((v) => v.role === 'target'), ...vms.filter((v) => v.role === 'provisioner')];
  return { stop: order.filter(live).map((v) => v.name), already: order.filter((v) => !live(v)).map((v) => v.name) };
}

/** One line per action, for the plan shown before anything runs. */
export function describeAction(a: Action): string {
  switch (a.kind) {
    case 'create-provisioner': return `+ create provisioner ${a.name}`;
    case 'start': return `~ start ${a.name}`;
    case 'stack': return `~ make the pxeboot stack of ${a.name} healthy`;
    case 'build-live': return `+ build the live image (${a.arch}) inside ${a.provisioner} and serve it`;
    case 'upload': return `+ upload artifact ${a.artifact.name}`;
    case 'create-target': return `+ create PXE target ${a.target.name} (${a.target.arch}${a.target.ip ? `, ip ${a.target.ip}` : ''})`;
    case 'set-profile': return `~ boot profile of ${a.name} → ${a.profile.kind === 'kernel' ? `kernel ${a.profile.kernel}` : a.profile.kind}`;
    case 'restart': return `~ restart ${a.name} (its boot profile changed)`;
    case 'wait-target': return `? check ${a.name} answers SSH`;
    case 'remove': return `- remove ${a.name} (--prune)`;
    case 'set-reservation': return `~ reservation ${a.reservation.mac} → ${a.reservation.ip} ${a.reservation.hostname}${a.reservation.profile ? ` (${a.reservation.profile.kind})` : ''}`;
    case 'remove-reservation': return `- remove reservation ${a.mac} (${a.hostname}) (--prune)`;
  }
}
