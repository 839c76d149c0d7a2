// Bench (issue 13): `pvmlab up` from an empty lab home (provisioner image and live image cached) to target1
// answering SSH, per stage; then a second `up` (converged: nothing to change), `down`, and `up` after `down`.
// Twice: under the accelerator the doctor picks, and under TCG (PVMLAB_ACCEL=tcg). Each row is labelled with the
// accelerator the provisioner really ran with (from `vm list --json`), so where the doctor picks TCG too (these
// machines: kvm_pvm) the two rows say so. Machine load (1-min loadavg) is recorded before and after every run.
//   npx tsx bench/up.ts [--image offline|auto] [--only doctor|tcg] [--skip-restart]   → bench/results/up.json
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const BIN = path.join(ROOT, 'bin/pvmlab.mjs');
const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const image = opt('--image', 'offline');
const only = opt('--only', '');

interface Stage { stage: string; seconds: number }
interface Run { label: string; seconds: number; stages: Stage[]; load: { before: number; after: number } }
interface Mode { mode: 'doctor' | 'tcg'; label: string; doctorChoice: string; ranWith: string | null; runs: Run[] }

/** Stage lines ("  ✓ prov ssh   53.5 s", "  ✓ x   2 min 05 s") → [{ stage, seconds }]. */
export function stages(stderr: string): Stage[] {
  return [...stderr.matchAll(/^ {2}✓ (.+?) +(?:(\d+) min (\d+) s|([\d.]+) (ms|s))$/gm)].map((m) => ({
    stage: m[1], seconds: m[2] ? Number(m[2]) * 60 + Number(m[3]) : Number(m[4]) / (m[5] === 'ms' ? 1000 : 1),
  }));
}

async function bench(mode: 'doctor' | 'tcg'): Promise<Mode> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'pvb-'));
  const env = { ...process.env, PVMLAB_HOME: home, ...(mode === 'tcg' ? { PVMLAB_ACCEL: 'tcg' } : {}) };
  if (mode === 'doctor') delete env.PVMLAB_ACCEL;
  const cli = (...a: string[]) => execa('node', [BIN, ...a], { env, reject: false });
  const doctor = JSON.parse((await cli('doctor', '--json')).stdout) as { doctor: { accelerator: { accelerator: string; reason: string } } };
  const choice = doctor.doctor.accelerator;
  const result: Mode = { mode, label: mode === 'doctor' ? "the doctor's pick" : 'TCG (PVMLAB_ACCEL=tcg)', doctorChoice: `${choice.accelerator}: ${choice.reason}`, ranWith: null, runs: [] };
  console.log(`\n== ${result.label}: the doctor says ${choice.accelerator} (${choice.reason}); image ${image}; lab home ${home}`);
  const timed = async (label: string, ...a: string[]) => {
    const before = os.loadavg()[0];
    const t0 = performance.now();
    const r = await cli(...a);
    const seconds = (performance.now() - t0) / 1000;
    if (r.exitCode !== 0) throw new Error(`${label} failed (exit ${r.exitCode}):\n${r.stderr.split('\n').slice(-10).join('\n')}`);
    const run: Run = { label, seconds, stages: stages(r.stderr), load: { before, after: os.loadavg()[0] } };
    console.log(`${label}: ${seconds.toFixed(1)} s (load ${before.toFixed(2)} → ${run.load.after.toFixed(2)})`);
    for (const x of run.stages) console.log(`  ${x.stage.padEnd(30)} ${x.seconds.toFixed(1).padStart(7)} s`);
    result.runs.push(run);
  };
  try {
    await timed('up from an empty home', 'up', '--image', image);
    const vms = JSON.parse((await cli('vm', 'list', '--json')).stdout) as { name: string; runningAccel?: { accel: string; cpu: string } | null }[];
    const ran = vms.find((v) => v.name === 'prov')?.runningAccel;
    result.ranWith = ran ? `${ran.accel} -cpu ${ran.cpu}` : null;
    await timed('second up (converged)', 'up', '--image', image);
    if (!args.includes('--skip-restart')) {
      await timed('down', 'down');
      await timed('up after down', 'up', '--image', image);
    }
  } finally {
    await cli('clean', '--remove-key');
    fs.rmSync(home, { recursive: true, force: true });
  }
  return result;
}

const modes: Mode[] = [];
for (const m of ['doctor', 'tcg'] as const) if (!only || only === m) modes.push(await bench(m));

const heads = modes.map((m) => `${m.label} [ran: ${m.ranWith ?? '?'}]`);
const w = Math.max(...heads.map((h) => h.length)) + 3;
console.log(`\n${'run'.padEnd(29)}${heads.map((h) => h.padStart(w)).join('')}`);
for (const label of modes[0].runs.map((r) => r.label)) {
  console.log(label.padEnd(29) + modes.map((m) => `${(m.runs.find((r) => r.label === label)?.seconds ?? Number.NaN).toFixed(1)} s`.padStart(w)).join(''));
}
fs.mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
fs.writeFileSync(path.join(ROOT, 'bench/results/up.json'), JSON.stringify({ at: new Date().toISOString(), image, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, modes }, null, 2) + '\n');
console.log('\nwritten: bench/results/up.json');
