// Plain-text renderings for the terminal. Pure.
import type { DoctorReport, HomeInfo } from '../lab/lab.ts';

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

export function formatDoctor(r: DoctorReport, home?: HomeInfo): string {
  const out: string[] = [];
  out.push(`host:        ${r.os.distro} (${r.os.platform} ${r.os.release}), ${r.os.cpuArch}, ${r.os.cpus} CPUs, ${formatBytes(r.os.memoryBytes)}`);
  const p = r.accelProbe;
  const env = process.env.PVMLAB_ACCEL?.trim();
  if (env && env !== 'auto') out.push(`override:    PVMLAB_ACCEL=${env}${r.problems.some((x) => x.includes('PVMLAB_ACCEL')) ? ' — not applied: see problems below' : ''}`);
  out.push(`accelerator: ${p.cached ? `probe cached from ${p.probedAt}` : `probed in ${(p.durationMs / 1000).toFixed(1)} s`} (pvmlab doctor --recheck probes again)`);
  for (const arch of ['x86_64', 'aarch64'] as const) {
    const a = r.accelerators[arch];
    const src = a.source === 'probe' ? '' : ` [${a.source === 'env' ? 'PVMLAB_ACCEL' : a.source}]`;
    out.push(`  ${arch.padEnd(8)} ${a.accelerator} -cpu ${a.cpu}${src} — ${a.reason}`);
    // The advice once: the reason above already carries the advice of a screened-out accelerator.
    for (const t of a.tried.filter((x) => !x.ok)) out.push(`           not ${t.accel} (${t.cpu}): ${t.symptom}${t.advice && !a.reason.includes(t.advice) ? `\n             → ${t.advice}` : ''}`);
  }
  if (home) out.push(`lab home:    ${home.path} (${formatBytes(home.freeBytes)} free)`, `sockets:     ${home.runDir}`);
  out.push('');
  out.push(formatTable(['TOOL', 'VERSION', 'INSTALL'], r.tools.map((t) => [t.name, t.found ? `${t.version} (${t.command})` : 'missing', t.found ? '' : t.install])));
  out.push('');
  out.push(formatTable(['FIRMWARE', 'PATH', 'INSTALL'], r.firmware.map((f) => [f.name, f.path ?? 'missing', f.found ? '' : f.install])));
  out.push('');
  out.push(r.ok ? 'ok: everything pvmlab needs is here' : `problems:\n${r.problems.map((p) => `  - ${p}`).join('\n')}`);
  return out.join('\n');
}
