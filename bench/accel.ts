// Every bench figure names the accelerator it ran under: the doctor's choice per guest arch, after the
// overrides (PVMLAB_ACCEL=kvm|tcg|… tells a bench which to use for the VMs it starts).
import { runDoctor } from '../server/lab/host.ts';

/** e.g. { x86_64: 'tcg -cpu max (probe)', aarch64: 'tcg -cpu max,pauth-impdef=on (probe)' } */
export async function accelLabels(): Promise<Record<'x86_64' | 'aarch64', string>> {
  const d = await runDoctor();
  const label = (a: (typeof d.accelerators)['x86_64']) => `${a.accelerator} -cpu ${a.cpu} (${a.source === 'env' ? 'PVMLAB_ACCEL' : a.source})`;
  return { x86_64: label(d.accelerators.x86_64), aarch64: label(d.accelerators.aarch64) };
}
