// The up/down executor (thin): look at the lab, plan (plan.ts), then run the plan as one job whose stages
// are the steps people wait for — image → provisioner booted → ssh → cloud-init → docker → stack →
// target DHCP → kernel → ssh. Re-run, it converges: the plan only holds what is missing or different.
import fs from 'node:fs';
import { updateLabConfig } from '../config.ts';
import { execa } from 'execa';
import type { Lab } from '../lab.ts';
import type { JobHandle } from '../jobs.ts';
import { BadRequestError, ConflictError } from '../errors.ts';
import { artifactPresent, changes, planDown, planUp, type CurrentLab, type Plan, type ResolvedReservation, type ResolvedTarget, type WantedArtifact } from './plan.ts';
import { buildLive, liveProfile, sha256File, type LiveImage } from './live.ts';
import { buildLiveInProvisioner, cachedRemoteLive, chooseLiveBuilder, hostHasApt } from './live-remote.ts';
import { decideImage, offlineImage, probeUbuntu, type ImageDecision } from './image.ts';
import type { DesiredArtifact, DesiredLab, DesiredProfile } from './desired.ts';
import type { BootProfile } from '../provisioner/pxe.ts';
import { catalogueOf, catalogueProfile, findBootProfile, targetConsole } from './catalogue.ts';
import { catalogueArtifacts } from './catalogue-fetch.ts';
import type { Arch } from '../spec.ts';
import { planNetwork } from './network.ts';
import { LogFollower } from './logfollow.ts';

export interface UpOptions {
  prune?: boolean;
  /** Show the plan (onPlan) and stop there. */
  dryRun?: boolean;
  /** Called once with the plan before anything changes (the CLI prints it). */
  onPlan?: (plan: Plan) => void;
}

/** targets: those `up` followed — 'ssh ok' (the live profile answered SSH) or 'booting' (another profile fetched its boot script). */
export interface UpResult { plan: Plan; changed: number; image: ImageDecision | null; targets: { name: string; ip: string | null; state: 'ssh ok' | 'booting' }[] }

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The lab as it is: records, reservations, and (when the provisioner runs) the stack and its artifacts. */
export async function observe(lab: Lab): Promise<CurrentLab> {
  const vms = lab.vms.list().map((v) => ({ name: v.name, role: v.role, arch: v.arch, boot: v.boot, mac: v.mac, status: v.status, firmware: v.firmware, secureBoot: v.secureBoot, netboot: v.netboot }));
  const cur: CurrentLab = { vms, reservations: lab.provisioner.reservations(), stackHealthy: null, artifacts: null };
  if (!vms.some((v) => v.role === 'provisioner' && v.status === 'running')) return cur;
  try {
    const st = await lab.provisioner.stack().state();
    cur.stackHealthy = st.running && st.health !== 'unhealthy' && st.health !== 'starting';
    if (cur.stackHealthy) cur.artifacts = Object.fromEntries((await lab.provisioner.artifacts()).map((a) => [a.name, a.sha256]));
  } catch { cur.stackHealthy = null; }
  return cur;
}

/** Run `pvmlab up` for a desired lab inside a job (see the file header). Throws ConflictError before any change on conflicts. */
export async function upLab(lab: Lab, desired: DesiredLab, job: JobHandle, opts: UpOptions = {}): Promise<UpResult> {
  const check = () => { if (job.signal.aborted) throw new Error('cancelled'); };
  job.stage('look at the lab');
  const current = await observe(lab);
  const net = planNetwork(lab.vms.config(), desired.network ?? null, current.vms.length);
  if (net.conflict) throw new ConflictError(net.conflict);
  // The live image before the plan: the plan compares its sha256 with what the provisioner serves.
  const lives = new Map<string, LiveImage>();
  // …for the live profile, and for image installs (the live image is their installer).
  const needsLive = (p: DesiredProfile) => p === 'live' || (!!p && typeof p === 'object' && 'kind' in p && p.kind === 'image');
  const liveArches = [...new Set([...desired.targets.filter((t) => needsLive(t.profile)).map((t) => t.arch),
    ...(desired.reservations ?? []).filter((r) => needsLive(r.profile)).map(() => desired.provisioner.arch)])];
  const liveBuilds: Arch[] = []; // built inside the provisioner once it runs (hosts without apt)
  if (liveArches.length) {
    job.stage('boot profile image');
    const where = chooseLiveBuilder(process.env, await hostHasApt());
    for (const a of liveArches) {
      if (where.builder === 'host') { lives.set(a, await buildLive(a, job.signal)); continue; }
      const cached = await cachedRemoteLive(a);
      if (cached) lives.set(a, cached); else liveBuilds.push(a);
      job.log(`live image (${a}): ${where.why}${cached ? `; built there before, cached in ${cached.dir}` : ''}`);
    }
  }
  const publicKey = fs.readFileSync(lab.home.publicKey, 'utf8');
  const serverIp = (net.write ?? lab.vms.config()).network.provisionerIp;
  const liveFor = (hostname: string, arch: Arch) => {
    const live = lives.get(arch);
    if (!live && !liveBuilds.includes(arch)) throw new BadRequestError('profile', `no live image for ${arch}`);
    return liveProfile({ arch, console: live?.console ?? targetConsole(arch), hostname, publicKey, serverIp });
  };
  // Catalogue entries with files (installers): fetched on the host (cached) before the plan, like the live image.
  const fetched: WantedArtifact[] = [];
  const resolve = async (p: DesiredProfile, hostname: string, arch: Arch): Promise<BootProfile | null> => {
    if (p === 'live') return liveFor(hostname, arch);
    if (!p || !('catalogue' in p)) return p;
    const profile = catalogueProfile(p.catalogue, arch, { console: targetConsole(arch), hostname, serverIp }); // refuses a wrong arch before any download
    if (findBootProfile(p.catalogue).files !== 'none') {
      job.stage(`${p.catalogue} files`);
      for (const a of await catalogueArtifacts(p.catalogue, arch, { hostname, publicKey, log: (l) => job.log(l), signal: job.signal })) {
        if (!fetched.some((x) => x.name === a.name)) fetched.push(a);
      }
    }
    return profile;
  };
  const targets: ResolvedTarget[] = [];
  for (const t of desired.targets) {
    const need = t.profile && typeof t.profile === 'object' && 'catalogue' in t.profile ? findBootProfile(t.profile.catalogue).minMemoryMiB : null;
    targets.push({ ...t, profile: await resolve(t.profile, t.name, t.arch), ...(need ? { needsMemoryMiB: need } : {}) });
  }
  const reservations: ResolvedReservation[] = [];
  for (const r of desired.reservations ?? []) reservations.push({ ...r, profile: await resolve(r.profile, r.hostname, desired.provisioner.arch) });
  const artifacts: WantedArtifact[] = [...[...lives.values()].flatMap((l) => [l.kernel, l.initrd]), ...fetched, ...await checkedArtifacts(desired.artifacts ?? [])];

  const plan = planUp({ provisioner: desired.provisioner, targets, artifacts, reservations, current, prune: opts.prune, liveBuilds });
  opts.onPlan?.(plan);
  if (plan.conflicts.length) throw new ConflictError(plan.conflicts.join('; '));
  if (opts.dryRun) return { plan, changed: changes(plan).length, image: null, targets: [] };
  if (net.write) { const cfg = net.write; updateLabConfig(lab.home, () => cfg); } // validated before it is written

  let image: ImageDecision | null = null;
  const logOffsets = new Map<string, number>();
  const warm = new Set<string>(); // provisioners resumed from their ready snapshot
  const reached = new Map<string, 'ssh ok' | 'booting'>();
  let remoteArts: Map<string, string> | null = null;
  const prov = desired.provisioner;
  // Uploads retake the provisioner's ready snapshot once, at the end (also when a later step fails), not per file.
  let uploaded = false;
  try {
    for (const a of plan.actions) {
      check();
      switch (a.kind) {
        case 'create-provisioner': {
          job.stage('image');
          image = decideImage(prov.image, prov.arch, prov.image === 'auto' ? await probeUbuntu(prov.arch, lab.home) : null);
          job.log(`provisioner image: ${image.why}`);
          const base = { name: a.name, role: 'provisioner', arch: prov.arch, memory: prov.memory, cpus: prov.cpus };
          if (image.use === 'offline') {
            const img = await offlineImage(prov.arch, (l) => job.log(l), job.signal);
            await lab.createVm({ ...base, boot: 'kernel', image: img.disk, kernel: img.kernel, initrd: img.initrd, append: img.append });
          } else {
            await lab.createVm({ ...base, boot: 'disk', image: image.use === 'file' ? image.path : image.ref });
          }
          break;
        }
        case 'start':
          job.stage(`${a.name} start`);
          logOffsets.set(a.name, lab.consoleLog(a.name, 0, 0).size);
          // The provisioner resumes its ready snapshot when it has one (Lab.powerOn): its stack stage is then seconds.
          if ((await lab.powerOn(a.name)).warm) { warm.add(a.name); job.log(`${a.name}: resumed from its ready snapshot`); }
          break;
        case 'restart':
          job.stage(`${a.name} restart`);
          await lab.vms.stop(a.name, { force: true });
          logOffsets.set(a.name, lab.consoleLog(a.name, 0, 0).size);
          if ((await lab.powerOn(a.name)).warm) warm.add(a.name);
          break;
        case 'stack': {
          const prefixed: JobHandle = { id: job.id, signal: job.signal, stage: (n) => job.stage(`${a.name} ${n}`), progress: (p) => job.progress(p), log: (l) => job.log(l) };
          await lab.provisioner.ready(prefixed, { warm: warm.has(a.name) });
          break;
        }
        case 'build-live':
          job.stage(`live image (${a.arch}) in ${a.provisioner}`);
          lives.set(a.arch, await buildLiveInProvisioner(lab, a.arch, job));
          uploaded = true; // published into its artifacts: the ready snapshot is retaken at the end
          break;
        case 'upload': {
          job.stage(`upload ${a.artifact.label ?? a.artifact.name}`);
          // Planned while the stack was down (artifacts unknown): what the provisioner already serves is not sent again.
          remoteArts ??= new Map((await lab.provisioner.artifacts()).map((x) => [x.name, x.sha256]));
          if (artifactPresent(a.artifact, remoteArts.get(a.artifact.name))) job.log(`${a.artifact.name}: already there`);
          else if (!a.artifact.path) throw new BadRequestError('artifacts', `'${a.artifact.name}' (sha256 ${a.artifact.sha256.slice(0, 12)}…) is not on the provisioner and the lab file gives no path: add path: with the file to upload`);
          else { await lab.provisioner.uploadArtifact(a.artifact.name, fs.createReadStream(a.artifact.path), { size: fs.statSync(a.artifact.path).size, sha256: a.artifact.sha256, refreshWarm: false }); uploaded = true; }
          break;
        }
        case 'create-target': {
          job.stage(`${a.target.name} created`);
          const t = a.target;
          await lab.createVm({ name: t.name, role: 'target', arch: t.arch, boot: 'pxe', memory: t.memory, sshUser: t.sshUser, ...(t.ip ? { ip: t.ip } : {}), ...(t.mac ? { mac: t.mac } : {}),
            ...(t.firmware ? { firmware: t.firmware } : {}), ...(t.secureBoot ? { secureBoot: true } : {}), ...(t.netboot ? { netboot: t.netboot } : {}) });
          break;
        }
        case 'set-profile':
          job.stage(`${a.name} boot profile`);
          await lab.provisioner.setProfile(lab.vms.get(a.name).mac, a.profile);
          break;
        case 'wait-target':
          reached.set(a.name, await waitTarget(lab, a.name, logOffsets.get(a.name), job, targets.find((t) => t.name === a.name)?.profile ?? null));
          break;
        case 'set-reservation': {
          job.stage(`reservation ${a.reservation.hostname}`);
          const r = a.reservation;
          await lab.provisioner.setReservation({ mac: r.mac, ip: r.ip, hostname: r.hostname, profile: r.profile ?? { kind: 'exit' } });
          break;
        }
        case 'remove-reservation':
          job.stage(`reservation ${a.hostname} removed`);
          await lab.provisioner.removeReservation(a.mac);
          break;
        case 'remove':
          job.stage(`${a.name} removed`);
          await lab.cleanVm(a.name);
          break;
      }
    }
  } finally {
    if (uploaded) await lab.provisioner.refreshWarm();
  }
  const ips = new Map(lab.provisioner.reservations().map((r) => [r.hostname, r.ip]));
  return { plan, changed: changes(plan).length, image, targets: targets.filter((t) => reached.has(t.name)).map((t) => ({ name: t.name, ip: ips.get(t.name) ?? null, state: reached.get(t.name)! })) };
}

/** The lab file's artifacts with a path: the file must exist and have the sha256 the file says. */
async function checkedArtifacts(list: DesiredArtifact[]): Promise<WantedArtifact[]> {
  for (const a of list) {
    if (!a.path) continue;
    if (!fs.statSync(a.path, { throwIfNoEntry: false })?.isFile()) throw new BadRequestError('artifacts', `'${a.name}': no such file ${a.path}`);
    const sha = await sha256File(a.path);
    if (sha !== a.sha256) throw new BadRequestError('artifacts', `'${a.name}': ${a.path} has sha256 ${sha}, the lab file says ${a.sha256}: fix one of them`);
  }
  return list.map((a) => ({ name: a.name, path: a.path, sha256: a.sha256 }));
}

/** Until the console log matches `re` (only new bytes read each time), or fail with the stage and the last lines. */
async function waitLog(log: LogFollower, name: string, re: RegExp, stage: string, timeoutMs: number, job: JobHandle): Promise<void> {
  const end = Date.now() + timeoutMs;
  log.rewind();
  while (Date.now() < end) {
    if (job.signal.aborted) throw new Error('cancelled');
    log.poll();
    if (log.find(re)) return;
    await sleep(300);
  }
  throw new Error(`${name}: stage '${stage}' did not finish within ${timeoutMs / 1000} s. Last console lines:\n${log.lastLines(10)}`);
}

/**
 * A target that was just started (`offset`: its console log's size before): DHCP + its iPXE script → kernel up
 * with its IP → SSH answers with its name. Only the live profile reports in and answers SSH: a target on another
 * profile is followed to its boot script ('booting'), not further. offset undefined: it already ran; SSH only.
 */
export async function waitTarget(lab: Lab, name: string, offset: number | undefined, job: JobHandle, profile: BootProfile | null = null): Promise<'ssh ok' | 'booting'> {
  const live = !profile || catalogueOf(profile) === 'live';
  if (offset !== undefined) {
    const log = new LogFollower((o, l) => lab.consoleLog(name, o, l), offset);
    job.stage(`${name} DHCP`);
    // its boot script began: the network boot ("pvmlab: booting <name> …"), or an installed target's boot from disk
    await waitLog(log, name, new RegExp(`pvmlab: (booting ${name} |${name} .*: booting from its disk)`), 'DHCP', 180_000, job);
    if (!live) { job.log(`${name} boots ${catalogueOf(profile!) ?? 'its own profile'}: not the live profile, so no SSH check`); return 'booting'; }
    job.stage(`${name} kernel`);
    await waitLog(log, name, /PVMLAB-NET ip=/, 'kernel', 240_000, job);
  }
  job.stage(`${name} ssh`);
  const end = Date.now() + 180_000;
  let last = '';
  for (;;) {
    if (job.signal.aborted) throw new Error('cancelled');
    const argv = lab.sshArgv(name, ['uname', '-n']);
    const r = await execa(argv[0], argv.slice(1), { reject: false, timeout: 30_000 });
    if (r.exitCode === 0 && String(r.stdout).trim() === name) return 'ssh ok';
    // A running target on another profile (an installer, netboot.xyz, an installed disk) may have no lab key to
    // answer with: one try, not a 180 s wait.
    if (!live) return 'booting';
    last = (String(r.stderr) || String(r.stdout)).trim().split('\n').pop() ?? '';
    if (Date.now() > end) throw new Error(`${name}: SSH did not answer within 180 s (${last}); see pvmlab vm logs ${name}`);
    await sleep(2000);
  }
}

/** `pvmlab down`: stop targets, then the provisioner (ACPI power-off first). Returns what it stopped. */
export async function downLab(lab: Lab, job: JobHandle): Promise<{ stopped: string[]; already: string[] }> {
  const p = planDown(lab.vms.list().map((v) => ({ name: v.name, role: v.role, arch: v.arch, boot: v.boot, mac: v.mac, status: v.status })));
  for (const n of p.stop) {
    job.stage(`${n} stop`);
    await lab.vms.stop(n, { graceMs: lab.vms.get(n).role === 'provisioner' ? 60_000 : 15_000 });
  }
  return { stopped: p.stop, already: p.already };
}
