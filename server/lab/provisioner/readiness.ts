// The provisioner's readiness: its stages (as data, run by stages.ts) and the warm start — the "ready" snapshot
// (RAM + disk) taken at the end of the first successful start, which later starts resume.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { writeFileAtomic } from '../home.ts';
import type { JobHandle } from '../jobs.ts';
import { logTail } from '../vm/console-log.ts';
import { stackHash } from './stack.ts';
import { runStages, StageFailure, type StageSpec } from './stages.ts';
import type { ProvisionerDeps } from './service.ts';
import type { Remote } from './remote.ts';
import type { Stack } from './stack.ts';

export const STAGES = ['booted', 'ssh', 'cloud-init', 'docker', 'image', 'container', 'clock', 'snapshot'] as const;
export type Stage = (typeof STAGES)[number];

/** The provisioner's "ready" snapshot (RAM + disk), taken at the end of its first successful start: warm starts resume it. */
export const WARM_SNAPSHOT = 'pvmlab-ready';

/** What readiness needs of the provisioner service: its name, SSH into it, its stack, and the PXE files published. */
export interface ReadinessTarget {
  deps: ProvisionerDeps;
  name(): string;
  remote(): Remote;
  stack(): Stack;
  syncPxe(): Promise<void>;
}

export class Readiness {
  constructor(private p: ReadinessTarget) {}

  private metaPath(name: string): string { return this.p.deps.home.inside('configs', `${name}.warm.json`); }

  /** What a ready snapshot depends on: the pxeboot stack's source and the lab's network config. */
  private key(): { stack: string; network: string } {
    return { stack: stackHash(), network: crypto.createHash('sha256').update(JSON.stringify(this.p.deps.vms.config().network)).digest('hex').slice(0, 16) };
  }

  /**
   * Can the provisioner resume from its ready snapshot? It must exist on its disk, and the stack and network
   * config must be the ones it was taken with (else it is stale: removed, and the next start is cold).
   */
  async warmState(): Promise<{ usable: boolean; reason: string }> {
    const name = this.p.name();
    let meta: { stack: string; network: string; takenAt: string } | null = null;
    try { meta = JSON.parse(fs.readFileSync(this.metaPath(name), 'utf8')); } catch { /* none */ }
    const snaps = await this.p.deps.snapshots.list(name).catch(() => []);
    const snap = snaps.find((x) => x.name === WARM_SNAPSHOT && x.kind === 'running');
    if (!snap || !meta) return { usable: false, reason: 'no ready snapshot yet (it is taken at the end of the first successful start)' };
    const key = this.key();
    if (meta.stack !== key.stack) return { usable: false, reason: 'the pxeboot stack changed since the ready snapshot' };
    if (meta.network !== key.network) return { usable: false, reason: "the lab's network config changed since the ready snapshot" };
    return { usable: true, reason: `ready snapshot of ${meta.takenAt}` };
  }

  /** Forget the ready snapshot (stale, or the user asked for a cold start): the next successful start takes a new one. */
  async dropWarm(): Promise<void> {
    const name = this.p.name();
    fs.rmSync(this.metaPath(name), { force: true });
    if ((await this.p.deps.snapshots.list(name).catch(() => [])).some((x) => x.name === WARM_SNAPSHOT)) {
      await this.p.deps.snapshots.remove(name, WARM_SNAPSHOT);
    }
  }

  /** (Re)take the ready snapshot of the running provisioner, with what it depends on. */
  private async takeWarm(): Promise<void> {
    const name = this.p.name();
    await this.dropWarm();
    const key = this.key();
    await this.p.deps.snapshots.take(name, WARM_SNAPSHOT, { internal: true });
    writeFileAtomic(this.metaPath(name), JSON.stringify({ ...key, takenAt: new Date().toISOString() }, null, 2) + '\n');
  }

  /**
   * Artifacts live only on the provisioner's disk: after one is added or removed, a ready snapshot would bring the
   * old set back on the next warm start, so it is taken again (about a second; the VM pauses while RAM is saved).
   */
  async refreshWarm(): Promise<void> {
    if (!fs.existsSync(this.metaPath(this.p.name()))) return;
    try { await this.takeWarm(); } catch { await this.dropWarm().catch(() => {}); }
  }

  /**
   * Staged readiness: VM booted → SSH → cloud-init done → Docker → image → container healthy, then the PXE files
   * published and, the first time, the ready snapshot taken. `warm`: the VM was resumed from that snapshot, so
   * only booted → SSH → clock (the guest's clock is set to the host's) → container healthy → publish run.
   * Timeouts in seconds per stage. Errors: StageTimeout / StageFailure with the stage's log tail, 'cancelled'.
   */
  async ready(job: JobHandle, opts: { imageTar?: string; warm?: boolean; timeouts?: Partial<Record<Stage, number>> } = {}): Promise<void> {
    const name = this.p.name();
    const remote = this.p.remote();
    const t = { booted: 60, ssh: 600, 'cloud-init': 900, docker: 600, image: 3600, container: 180, clock: 60, snapshot: 600, ...opts.timeouts };
    const serialTail = async () => logTail(this.p.deps.home.vmLog(name), 15);
    const remoteTail = (cmd: string[]) => async () => (await remote.code(cmd, { sudo: true, timeoutMs: 15_000 })).stdout.trim().split('\n').slice(-15).join('\n');
    const stack = this.p.stack();
    const spec = (name: Stage, check: () => Promise<boolean>, tail: () => Promise<string>): StageSpec<Stage> => ({ name, timeoutS: t[name], check, tail });
    const booted = spec('booted', async () => (await this.p.deps.vms.queryStatus(name)) === 'running', serialTail);
    const ssh = spec('ssh', async () => (await remote.code(['true'], { timeoutMs: 20_000 })).code === 0, serialTail);
    const container = (up: () => Promise<void>) => spec('container', async () => { await up(); return true; }, () => stack.logs(20));
    if (opts.warm) {
      await runStages(job, [booted, ssh,
        // The snapshot's clock is the moment it was taken: set the guest's to the host's (UTC, whole seconds).
        spec('clock', async () => (await remote.code(['date', '-u', '-s', `@${Math.floor(Date.now() / 1000)}`], { sudo: true, timeoutMs: 20_000 })).code === 0, serialTail),
        container(() => stack.waitHealthy(t.container * 1000))]);
      await this.p.syncPxe();
      return;
    }
    const cloudInitLog = remoteTail(['tail', '-n', '30', '/var/log/cloud-init-output.log']);
    let image: string | undefined;
    const buildLog: string[] = [];
    await runStages(job, [booted, ssh,
      spec('cloud-init', async () => {
        const r = await remote.code(['cloud-init', 'status', '--wait'], { timeoutMs: t['cloud-init'] * 1000 });
        if (/status: (done|degraded)/.test(r.stdout)) return true;
        if (/status: error/.test(r.stdout)) throw new StageFailure('cloud-init', 0, await cloudInitLog());
        return false;
      }, cloudInitLog),
      spec('docker', async () => (await remote.code(['docker', 'info', '--format', '{{.ServerVersion}}'], { sudo: true, timeoutMs: 20_000 })).code === 0,
        remoteTail(['journalctl', '-u', 'docker', '-n', '20', '--no-pager'])),
      spec('image', async () => {
        if (opts.imageTar) { image = await stack.load(opts.imageTar); job.log(`loaded ${image}`); return true; }
        const built = await stack.build((l) => { buildLog.push(l); if (buildLog.length > 50) buildLog.shift(); job.log(l); }, job.signal);
        job.log(built ? 'image built' : 'image up to date');
        return true;
      }, async () => buildLog.slice(-15).join('\n')),
      container(() => stack.up(image, t.container * 1000)),
    ]);
    await this.p.syncPxe();
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
}
