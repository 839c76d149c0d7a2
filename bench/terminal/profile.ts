// Reading a V8 .cpuprofile (what `node --cpu-prof` writes): time by function (self), and by module.

interface CallFrame { functionName: string; url: string; lineNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame; children?: number[] }
export interface CpuProfile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

const where = (c: CallFrame) => {
  const u = c.url.replace(/^file:\/\//, '');
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u);
  const short = m ? m[1] : u.startsWith('node:') ? u : u.split('/').slice(-2).join('/');
  return `${c.functionName || '(anonymous)'} ${short || '(native)'}${c.lineNumber >= 0 && u ? `:${c.lineNumber + 1}` : ''}`;
};
const moduleOf = (c: CallFrame) => {
  const u = c.url.replace(/^file:\/\//, '');
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u);
  if (m) return m[1];
  if (u.startsWith('node:')) return 'node core';
  if (!u) return c.functionName.startsWith('(') ? c.functionName : '(native/V8)';
  return u.split('/').slice(-2).join('/');
};

/** Self time in ms per function and per module, busiest first. */
export function selfTimes(p: CpuProfile): { totalMs: number; idleMs: number; byFunction: [string, number][]; byModule: [string, number][] } {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const fn = new Map<string, number>();
  const mod = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const n = byId.get(p.samples[i]);
    const dt = (p.timeDeltas[i] ?? 0) / 1000;
    if (!n) continue;
    if (n.callFrame.functionName === '(idle)') { idle += dt; continue; }
    total += dt;
    fn.set(where(n.callFrame), (fn.get(where(n.callFrame)) ?? 0) + dt);
    mod.set(moduleOf(n.callFrame), (mod.get(moduleOf(n.callFrame)) ?? 0) + dt);
  }
  const sort = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  return { totalMs: total, idleMs: idle, byFunction: sort(fn), byModule: sort(mod) };
}

/** A printable summary: busy time, the top `n` functions by self time, and the top modules. */
export function summarizeProfile(p: CpuProfile, n = 25): string {
  const s = selfTimes(p);
  const pct = (x: number) => `${((x / s.totalMs) * 100).toFixed(1).padStart(5)} %`;
  return [
    `  busy ${Math.round(s.totalMs)} ms (idle ${Math.round(s.idleMs)} ms)`,
    '  top functions (self):',
    ...s.byFunction.slice(0, n).map(([k, v]) => `    ${pct(v)} ${Math.round(v).toString().padStart(6)} ms  ${k}`),
    '  by module (self):',
    ...s.byModule.slice(0, 12).map(([k, v]) => `    ${pct(v)} ${Math.round(v).toString().padStart(6)} ms  ${k}`),
  ].join('\n');
}
