// Bench (issue 13): `pvmlab up` from an empty lab home (provisioner image and live image cached) to
// target1 answering SSH, per stage; then a second `up` (converged: nothing to change), `down`, and `up`
// after `down`. Under whatever accelerator the doctor picks; run it under scripts/without-kvm.sh for TCG.
//   npx tsx bench/up.ts [--image offline|auto] [--skip-restart]     → bench/results/up.json
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const BIN = path.join(ROOT, 'bin/pvmlab.mjs');
const args = process.argv.slice(2);
const image = args.includes('--image') ? args[args.indexOf('--image') + 1] : 'offline';
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'pvb-'));
const env = { ...process.env, PVMLAB_HOME: home };

/** Stage lines ("  ✓ prov ssh   53.5 s") → [{ stage, seconds }]. */
function stages(stderr: string): { stage: string; seconds: number }[] {
  return [...stderr.matchAll(/^ {2}✓ (.+?) +(?:(\d+) min (\d+) s|([\d.]+) (ms|s))$/gm)].map((m) => ({
    stage: m[1], seconds: m[2] ? Number(m[2]) * 60 + Number(m[3]) : Number(m[4]) / (m[5] === 'ms' ? 1000 : 1),
  }));
}

async function timed(label: string, ...cli: string[]) {
  const t0 = performance.now();
  const r = await execa('node', [BIN, ...cli], { env, reject: false });
  const seconds = (performance.now() - t0) / 1000;
  if (r.exitCode !== 0) throw new Error(`${label} failed (exit ${r.exitCode}):\n${r.stderr.split('\n').slice(-10).join('\n')}`);
  const s = stages(r.stderr);
  console.log(`\n${label}: ${seconds.toFixed(1)} s`);
  for (const x of s) console.log(`  ${x.stage.padEnd(30)} ${x.seconds.toFixed(1).padStart(7)} s`);
  return { label, seconds, stages: s };
}

const doctor = JSON.parse((await execa('node', [BIN, 'doctor', '--json'], { env })).stdout) as { doctor: { accelerator: { accelerator: string; reason: string } } };
const accel = doctor.doctor.accelerator;
console.log(`accelerator: ${accel.accelerator} (${accel.reason}); image ${image}; lab home ${home}; load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
const runs = [];
try {
  runs.push(await timed('up from an empty home', 'up', '--image', image));
  runs.push(await timed('second up (converged)', 'up', '--image', image));
  if (!args.includes('--skip-restart')) {
    runs.push(await timed('down', 'down'));
    runs.push(await timed('up after down', 'up', '--image', image));
  }
} finally {
  await execa('node', [BIN, 'clean', '--remove-key'], { env, reject: false });
  fs.rmSync(home, { recursive: true, force: true });
}
fs.mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
fs.writeFileSync(path.join(ROOT, 'bench/results/up.json'), JSON.stringify({ at: new Date().toISOString(), accelerator: accel, image, load: os.loadavg(), cpus: os.cpus().length, runs }, null, 2) + '\n');
console.log('\nwritten: bench/results/up.json');
