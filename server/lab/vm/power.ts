// Powering a VM on, with the provisioner's warm start: resume the ready snapshot when it is usable.
import type { Provisioner } from '../provisioner/service.ts';
import { WARM_SNAPSHOT } from '../provisioner/readiness.ts';
import type { Vms, VmView } from './lifecycle.ts';

/** The readiness job's title: says when the provisioner resumed its ready snapshot. */
export function readyTitle(name: string, warm: boolean): string {
  return `Provisioner ${name}: ready${warm ? ' (warm: resumed from its ready snapshot)' : ''}`;
}

/**
 * Power a VM on. The provisioner resumes its ready snapshot when it has a usable one and `cold` is not asked
 * (`warm` says so: its readiness then only checks SSH, sets the clock and re-publishes); otherwise it boots, and
 * a stale snapshot is dropped. A snapshot QEMU cannot load falls back to a cold boot.
 */
export async function powerOn(d: { vms: Vms; provisioner: Provisioner }, name: string, opts: { cold?: boolean } = {}): Promise<{ vm: VmView; warm: boolean }> {
  const rec = d.vms.get(name);
  let warm = false;
  if (rec.role === 'provisioner') {
    const w = await d.provisioner.warmState();
    if (opts.cold || !w.usable) await d.provisioner.dropWarm().catch(() => {});
    warm = !opts.cold && w.usable;
  }
  try {
    return { vm: await d.vms.start(name, { loadvm: warm ? WARM_SNAPSHOT : null }), warm };
  } catch (e) {
    if (!warm) throw e;
    await d.provisioner.dropWarm().catch(() => {});
    return { vm: await d.vms.start(name), warm: false };
  }
}
