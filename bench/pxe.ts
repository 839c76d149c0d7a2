// Bench (issue 4): P2 provisioner start → pxeboot stack healthy, per stage, from a cached image;
// P1 target power-on → marker via PXE vs a direct kernel boot of the same kernel + initrd, with the
// firmware / DHCP+script / HTTP(kernel+initrd) / kernel shares read from when lines reach the serial log.
// Run: npx tsx bench/pxe.ts   (RUNS=3 by default)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LabHome } from '../server/lab/home.ts';
import { Lab } from '../server/lab/lab.ts';
import { testGuest } from '../server/lab/testing/guests.ts';
import { provisionerImage } from '../server/lab/testing/provisioner.ts';
import { accelLabels } from './accel.ts';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const RUNS = Number(process.env.RUNS ?? 3);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

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

    // P1
    for (const [n, f] of [['vmlinuz', g.kernel], ['initrd.img', g.initrd]] as const) await lab.provisioner.uploadArtifact(n, fs.createReadStream(f), { size: fs.statSync(f).size });
    const t = await lab.createVm({ name: 'pxe', boot: 'pxe', memory: '512M', sshUser: 'root' });
    await lab.provisioner.setProfile(t.mac, { kind: 'kernel', kernel: 'vmlinuz', initrd: 'initrd.img', cmdline: 'console=ttyS0 pvmlab.hostname=pxe pvmlab.dhcp=1' });
    await lab.createVm({ name: 'direct', boot: 'kernel', kernel: g.kernel, initrd: g.initrd, memory: '512M', append: 'console=ttyS0 pvmlab.hostname=direct pvmlab.dhcp=1' });
    const pxe: Record<string, number>[] = [];
    const direct: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      for (const [name, sink] of [['pxe', pxe], ['direct', direct]] as const) {
        fs.rmSync(lab.home.vmLog(name), { force: true });
        const s = performance.now();
        await lab.startVm(name);
        const seen = await watchLog(lab.home.vmLog(name), s, { dhcp: /Configuring \(net0/, script: /boot\.ipxe/, kernel: /Linux version/, ready: /PVMLAB-GUEST-READY/ }, 'ready');
        if (name === 'pxe') {
          (sink as Record<string, number>[]).push(seen);
          fs.copyFileSync(lab.home.vmLog(name), path.join(ROOT, 'bench/results/pxe-target-serial.log'));
        } else (sink as number[]).push(seen.ready);
        await lab.vms.stop(name, { force: true });
      }
    }
    const m = (k: string) => median(pxe.map((x) => x[k]));
    // QEMU's NIC ROM is iPXE already: no TFTP step (an NBP over TFTP is only for non-iPXE firmware).
    const shares = { firmwareMs: m('dhcp'), dhcpMs: m('script') - m('dhcp'), tftpMs: 0, httpScriptKernelInitrdMs: m('kernel') - m('script'), kernelToMarkerMs: m('ready') - m('kernel') };
    const r = { pxeMs: m('ready'), directMs: median(direct), ratio: m('ready') / median(direct), shares, samples: { pxe, direct } };
    console.log(`P1 PXE power-on → marker ${(r.pxeMs / 1000).toFixed(1)} s vs direct kernel boot ${(r.directMs / 1000).toFixed(1)} s: ratio ${r.ratio.toFixed(2)} (goal ≤ 1.5)`);
    const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    console.log(`   shares: firmware (SeaBIOS + iPXE ROM) ${sec(shares.firmwareMs)}, DHCP ${sec(shares.dhcpMs)}, TFTP 0 (the NIC ROM is iPXE), HTTP script+kernel+initrd ${sec(shares.httpScriptKernelInitrdMs)}, kernel→marker ${sec(shares.kernelToMarkerMs)}`);
    out.P1 = r;

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
      await lab.startVm('pxe');
      await watchLog(lab.home.vmLog('pxe'), performance.now(), { ready: /PVMLAB-GUEST-READY/ }, 'ready');
      fs.rmSync(lab.home.vmLog('pxe'), { force: true });
      const p0 = performance.now();
      await lab.reprovisionVm('pxe');
      rp.push((await watchLog(lab.home.vmLog('pxe'), p0, { ready: /PVMLAB-GUEST-READY/ }, 'ready')).ready);
      await lab.vms.stop('pxe', { force: true });
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
  } finally {
    await lab.cleanLab({ removeKey: true }).catch(() => {});
    await lab.close();
    fs.rmSync(home, { recursive: true, force: true });
    fs.rmSync(lab.home.runDir, { recursive: true, force: true }); // sockets (server/lab/rundir.ts)
  }
  fs.writeFileSync(path.join(ROOT, 'bench/results/pxe.json'), JSON.stringify({ at: new Date().toISOString(), runs: RUNS, accelerator: await accelLabels(), load: os.loadavg(), ...out }, null, 2));
}

main().catch((e) => { console.error(e); process.exit(1); });
