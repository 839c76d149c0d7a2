// Bench (issues 4, 15): P2 provisioner start → pxeboot stack healthy, per stage, from a cached image;
// P1 per boot path (PATHS): target power-on → marker via PXE vs a direct kernel boot of the same kernel + initrd,
// with every stage's share taken from the boot flight recorder (lab.vmTimeline: DHCP / TFTP / HTTP from the stack's
// logs, firmware / kernel / marker from the timed console log).
// Run: npx tsx bench/pxe.ts   (RUNS=3 by default; PATHS=ipxe-rom,uefi-pxe,uefi-http; SKIP_WARM=1 skips issue 14's part)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LabHome } from '../server/lab/home.ts';
import { Lab, type Timeline } from '../server/lab/lab.ts';
import { testGuest } from '../server/lab/testing/guests.ts';
import { provisionerImage } from '../server/lab/testing/provisioner.ts';
import { accelLabels } from './accel.ts';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const RUNS = Number(process.env.RUNS ?? 3);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Boot paths of P1. `create` is what vm create gets for it. Pick with PATHS=ipxe-rom,uefi-pxe,uefi-http (default: all
 * this build can create). UEFI PXE / HTTP Boot need the firmware work of issue 15 (vm create firmware/netboot).
 */
const PATHS: { id: string; label: string; create: Record<string, unknown> }[] = [
  { id: 'ipxe-rom', label: 'BIOS PXE (SeaBIOS + iPXE NIC ROM)', create: {} },
  { id: 'uefi-pxe', label: 'UEFI PXE (OVMF → TFTP NBP → iPXE)', create: { firmware: 'uefi', netboot: 'pxe' } },
  { id: 'uefi-http', label: 'UEFI HTTP Boot (OVMF → HTTP NBP → iPXE)', create: { firmware: 'uefi', netboot: 'http' } },
];
const WANT = (process.env.PATHS ?? PATHS.map((x) => x.id).join(',')).split(',');

/** Wait until `re` appears in a log past byte `from` (the figures come from the recorder, this only waits). */
async function untilLog(file: string, from: number, re: RegExp, timeoutMs = 300_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    try { if (re.test(fs.readFileSync(file).subarray(from).toString('utf8'))) return; } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timeout waiting for ${re} in ${file}`);
}

/** Times (ms after t0) at which each pattern first appears in a growing log file. */
async function watchLog(file: string, t0: number, patterns: Record<string, RegExp>, done: string, timeoutMs = 300_000): Promise<Record<string, number>> {
  const seen: Record<string, number> = {};
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    let text = '';
    try { text = fs.readFileSync(file, 'utf8'); } catch { /* not yet */ }
    const now = performance.now() - t0;
    for (const [k, re] of Object.entries(patterns)) if (!(k in seen) && re.test(text)) seen[k] = now;
    if (done in seen) return seen;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timeout: saw ${JSON.stringify(seen)} in ${file}`);
}

async function main() {
  fs.mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
  const [img, g] = await Promise.all([provisionerImage('x86_64'), testGuest('x86_64')]);
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'pvp-'));
  const lab = await Lab.open(new LabHome(home));
  lab.watch();
  const out: Record<string, unknown> = {};
  try {
    // P2
    await lab.createVm({ name: 'prov', role: 'provisioner', boot: 'kernel', image: img.disk, kernel: img.kernel, initrd: img.initrd, append: img.append, memory: '2G', cpus: 2 });
    const t0 = performance.now();
    const stages: { stage: string; ms: number }[] = [];
    const off = lab.bus.on('job', (e) => { const j = lab.jobs.get(e.id); if (j && j.stage !== stages.at(-1)?.stage) stages.push({ stage: j.stage, ms: performance.now() - t0 }); });
    await lab.startVm('prov', { wait: true });
    const total = performance.now() - t0;
    off();
    const per = stages.map((s, i) => ({ stage: s.stage, ms: Math.round((stages[i + 1]?.ms ?? total) - s.ms) }));
    console.log(`P2 provisioner start → stack healthy: ${(total / 1000).toFixed(1)} s`);
    for (const s of per) console.log(`   ${s.stage.padEnd(12)} ${(s.ms / 1000).toFixed(1)} s`);
    out.P2 = { totalMs: Math.round(total), stages: per };

    // P1, per boot path: power-on → marker over PXE vs a direct kernel boot of the same kernel + initrd, and where
    // the PXE time goes — every figure read from the boot flight recorder (lab.vmTimeline), not from log scraping.
    for (const [n, f] of [['vmlinuz', g.kernel], ['initrd.img', g.initrd]] as const) await lab.provisioner.uploadArtifact(n, fs.createReadStream(f), { size: fs.statSync(f).size });
    const direct = await lab.createVm({ name: 'direct', boot: 'kernel', kernel: g.kernel, initrd: g.initrd, memory: '512M', append: 'console=ttyS0 pvmlab.hostname=direct pvmlab.dhcp=1' });
    const paths: typeof PATHS = [];
    const targets: string[] = [];
    const notRun: { path: string; why: string }[] = [];
    for (const p of PATHS.filter((x) => WANT.includes(x.id))) {
      let t: Awaited<ReturnType<Lab['createVm']>>;
      try { t = await lab.createVm({ name: `pxe-${p.id}`, boot: 'pxe', memory: '512M', sshUser: 'root', ...p.create }); } catch (e) {
        notRun.push({ path: p.id, why: (e as Error).message.replace(/\s+/g, ' ').slice(0, 200) }); // e.g. this build has no UEFI firmware choice yet
        console.log(`P1 ${p.label}: not run — ${notRun.at(-1)!.why}`);
        continue;
      }
      const fw = (p.create as { firmware?: string }).firmware;
      if (fw && (t as unknown as { firmware?: string }).firmware !== fw) { // an older build drops the field: the VM would boot BIOS
        await lab.cleanVm(t.name);
        notRun.push({ path: p.id, why: `this build has no firmware '${fw}' for vm create` });
        console.log(`P1 ${p.label}: not run — ${notRun.at(-1)!.why}`);
        continue;
      }
      paths.push(p);
      await lab.provisioner.setProfile(t.mac, { kind: 'kernel', kernel: 'vmlinuz', initrd: 'initrd.img', cmdline: `console=ttyS0 pvmlab.hostname=${t.name} pvmlab.dhcp=1` });
      targets.push(t.name);
    }
    const samples: Record<string, Timeline[]> = Object.fromEntries([direct.name, ...targets].map((x) => [x, []]));
    for (let i = 0; i < RUNS; i++) {
      for (const name of [direct.name, ...targets]) {
        const from = fs.existsSync(lab.home.vmLog(name)) ? fs.statSync(lab.home.vmLog(name)).size : 0;
        await lab.startVm(name);
        await untilLog(lab.home.vmLog(name), from, /PVMLAB-GUEST-READY/);
        let t = await lab.vmTimeline(name);
        // the console clock stamps within ~25 ms of a write; under load give it a moment to time the marker line
        for (let k = 0; k < 20 && !t.stages.some((x) => x.id === 'userspace'); k++) { await new Promise((r) => setTimeout(r, 250)); t = await lab.vmTimeline(name); }
        if (!t.diagnosis.ok || !t.stages.some((x) => x.id === 'userspace')) throw new Error(`${name}: ${t.diagnosis.stage}: ${t.diagnosis.cause}`);
        samples[name].push(t);
        await lab.vms.stop(name, { force: true });
      }
    }
    const readyMs = (t: Timeline) => t.stages.find((x) => x.id === 'userspace')!.end;
    const directMs = median(samples[direct.name].map(readyMs));
    const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    console.log(`P1 direct kernel boot (BIOS, -kernel/-initrd) power-on → marker: ${sec(directMs)}`);
    const p1: Record<string, unknown>[] = [];
    for (const [k, p] of paths.entries()) {
      const ts = samples[targets[k]];
      const pxeMs = median(ts.map(readyMs));
      const ids: string[] = [...new Set(ts.flatMap((t) => t.stages.map((x) => x.id)))].filter((id) => id !== 'callhome');
      const shares: Record<string, number> = Object.fromEntries(ids.map((id) => [id, Math.round(median(ts.map((t) => { const st = t.stages.find((x) => x.id === id); return st ? st.end - st.start : 0; })))]));
      // time in no stage (e.g. iPXE between its DHCP and its first request), so the shares add up to the total
      shares.between = Math.round(median(ts.map((t) => readyMs(t) - t.stages.filter((x) => x.id !== 'callhome').reduce((sum, x) => sum + x.end - x.start, 0))));
      ids.push('between');
      fs.writeFileSync(path.join(ROOT, `bench/results/pxe-timeline-${p.id}.json`), JSON.stringify(ts.at(-1), null, 2)); // the last run's whole timeline
      const row = { path: p.id, label: p.label, seenPath: ts[0].path, pxeMs: Math.round(pxeMs), directMs: Math.round(directMs), ratio: +(pxeMs / directMs).toFixed(2), sharesMs: shares,
        samplesMs: ts.map((t) => Math.round(readyMs(t))) };
      p1.push(row);
      console.log(`P1 ${p.label}: PXE ${sec(pxeMs)} vs direct ${sec(directMs)} → ratio ${row.ratio.toFixed(2)} (goal ≤ 1.5)`);
      console.log(`   ${ids.map((id) => `${id} ${sec(shares[id])}`).join(' · ')}`);
    }
    out.P1 = { directMs: Math.round(directMs), directSamplesMs: samples[direct.name].map((t) => Math.round(readyMs(t))), paths: p1, notRun };
    if (!process.env.SKIP_WARM) { // issue 14's figures (SKIP_WARM=1: P2 and P1 only)

    // Issue 14: P2 warm (resume the ready snapshot) vs the cold start above; snapshot take/revert of the provisioner.
    const snaps = await lab.listSnapshots('prov');
    const ready = snaps.find((x) => x.name === 'pvmlab-ready');
    const warm: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      await lab.vms.stop('prov');
      const w0 = performance.now();
      await lab.startVm('prov', { wait: true });
      warm.push(performance.now() - w0);
    }
    console.log(`P2 warm provisioner start → stack healthy: ${(median(warm) / 1000).toFixed(1)} s (cold ${(total / 1000).toFixed(1)} s; goal ≤ 10 s under TCG), ready snapshot RAM ${((ready?.vmStateBytes ?? 0) / 2 ** 20).toFixed(0)} MiB`);
    const s0 = performance.now();
    await lab.takeSnapshot('prov', 'bench');
    const takeMs = performance.now() - s0;
    const r0 = performance.now();
    await lab.revertSnapshot('prov', 'bench');
    const revertMs = performance.now() - r0;
    const benchSnap = (await lab.listSnapshots('prov')).find((x) => x.name === 'bench');
    await lab.removeSnapshot('prov', 'bench');
    console.log(`provisioner snapshot (running, with RAM): take ${(takeMs / 1000).toFixed(1)} s, revert ${(revertMs / 1000).toFixed(1)} s, RAM ${((benchSnap?.vmStateBytes ?? 0) / 2 ** 20).toFixed(0)} MiB`);
    // Re-provision of the PXE target to its marker vs a fresh create + start of an identical one.
    const rp: number[] = [];
    const fresh: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      await lab.startVm(targets[0]);
      await watchLog(lab.home.vmLog(targets[0]), performance.now(), { ready: /PVMLAB-GUEST-READY/ }, 'ready');
      fs.rmSync(lab.home.vmLog(targets[0]), { force: true });
      const p0 = performance.now();
      await lab.reprovisionVm(targets[0]);
      rp.push((await watchLog(lab.home.vmLog(targets[0]), p0, { ready: /PVMLAB-GUEST-READY/ }, 'ready')).ready);
      await lab.vms.stop(targets[0], { force: true });
      const f0 = performance.now();
      const f = await lab.createVm({ name: 'fresh', boot: 'pxe', memory: '512M', sshUser: 'root' });
      await lab.provisioner.setProfile(f.mac, { kind: 'kernel', kernel: 'vmlinuz', initrd: 'initrd.img', cmdline: 'console=ttyS0 pvmlab.hostname=fresh pvmlab.dhcp=1' });
      await lab.startVm('fresh');
      fresh.push((await watchLog(lab.home.vmLog('fresh'), f0, { ready: /PVMLAB-GUEST-READY/ }, 'ready')).ready);
      await lab.cleanVm('fresh');
    }
    console.log(`re-provision → marker ${(median(rp) / 1000).toFixed(1)} s vs fresh create + start ${(median(fresh) / 1000).toFixed(1)} s`);
    out.issue14 = { P2warmMs: Math.round(median(warm)), P2coldMs: Math.round(total), warmSamples: warm.map(Math.round), readySnapshotRamBytes: ready?.vmStateBytes ?? null,
      snapshot: { takeMs: Math.round(takeMs), revertMs: Math.round(revertMs), ramBytes: benchSnap?.vmStateBytes ?? null },
      reprovisionMs: Math.round(median(rp)), freshCreateStartMs: Math.round(median(fresh)) };
    }
  } finally {
    await lab.cleanLab({ removeKey: true }).catch(() => {});
    await lab.close();
    fs.rmSync(home, { recursive: true, force: true });
    fs.rmSync(lab.home.runDir, { recursive: true, force: true }); // sockets (server/lab/rundir.ts)
  }
  fs.writeFileSync(path.join(ROOT, 'bench/results/pxe.json'), JSON.stringify({ at: new Date().toISOString(), runs: RUNS, accelerator: await accelLabels(), load: os.loadavg(), ...out }, null, 2));
}

main().catch((e) => { console.error(e); process.exit(1); });
