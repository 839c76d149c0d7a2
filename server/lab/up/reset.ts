// `pvmlab reset`: the lab back to its ready state, as a job with the same stages as `pvmlab up` — the
// provisioner resumes its ready snapshot (readiness: ssh → clock → PXE files), then every running target is
// re-provisioned (fresh disk, same MAC/IP/profile) and followed until it answers SSH (live profile) or fetched
// its boot script (other profiles). Returns when the targets are back, not when they were powered on.
import type { Lab } from '../lab.ts';
import type { JobHandle } from '../jobs.ts';
import { ConflictError } from '../errors.ts';
import { waitTarget } from './execute.ts';

export interface ResetResult {
  provisioner: string;
  /** The targets re-provisioned, each with how far it was followed. */
  targets: { name: string; ip: string | null; state: 'ssh ok' | 'booting' | 'no profile' }[];
}

/** Errors: ConflictError when the provisioner has no usable ready snapshot (it says why: pvmlab up first). */
export async function resetLab(lab: Lab, job: JobHandle): Promise<ResetResult> {
  const prov = lab.provisioner.name();
  job.stage(`${prov} ready snapshot`);
  const w = await lab.provisioner.warmState();
  if (!w.usable) throw new ConflictError(`cannot reset the lab: ${w.reason}`);
  const targets = lab.vms.list().filter((v) => v.role === 'target' && v.status === 'running').map((v) => v.name);
  if (lab.vms.get(prov).status === 'running') {
    job.stage(`${prov} stop`);
    await lab.vms.stop(prov, { force: true });
  }
  job.stage(`${prov} start`);
  const { warm } = await lab.powerOn(prov);
  const prefixed: JobHandle = { id: job.id, signal: job.signal, stage: (n) => job.stage(`${prov} ${n}`), progress: (p) => job.progress(p), log: (l) => job.log(l) };
  await lab.provisioner.ready(prefixed, { warm });
  const out: ResetResult['targets'] = [];
  for (const t of targets) {
    if (job.signal.aborted) throw new Error('cancelled');
    job.stage(`${t} re-provision`);
    const offset = lab.consoleLog(t, 0, 0).size;
    await lab.reprovisionVm(t); // an installed target gets a new install armed for its blank disk
    const mac = lab.vms.get(t).mac;
    const r = lab.provisioner.reservations().find((x) => x.mac === mac);
    const profile = r && r.profile.kind !== 'exit' ? r.profile : null;
    out.push({ name: t, ip: r?.ip ?? null, state: profile ? await waitTarget(lab, t, offset, job, profile) : 'no profile' });
  }
  return { provisioner: prov, targets: out };
}
