// Printing bench/terminal-latency.ts's result (the same object it writes as JSON).
import type { CpuSample, Stats } from './common.ts';
import type { StageStats, Variant } from './echo.ts';
import type { FloodResult } from './flood.ts';

function row(what: string, s: Stats): string {
  return `  ${what.padEnd(40)} p50 ${String(s.p50).padStart(6)} ms   p95 ${String(s.p95).padStart(6)} ms   (n=${s.n}, min ${s.min}, max ${s.max})`;
}

function stageLine(st: StageStats): string {
  const f = (k: keyof StageStats) => `${k} ${st[k].p50}`;
  return `      stages p50 (ms after keydown): ${['inputDelay', 'send', 'msg', 'write', 'parsed', 'frame', 'rafStart', 'rendered'].map((k) => f(k as keyof StageStats)).join(', ')}`
    + `; render ${st.renderMs.p50} ms; ack ${st.ack.p50}; React commits/key max ${st.commits.max}; outside DOM mutations/key max ${st.mutations.max}`;
}

function cpuLine(c: CpuSample, server: string | null): string {
  const own = server ? `${server} server ${c.serverSelf[server]} ms (with its ssh client ${c.servers[server]} ms), ` : '';
  return `    host CPU per MiB over idle: ${own}browser ${c.browser} ms, guest (QEMU) ${c.guest} ms, ssh master ${c.sshMaster} ms`;
}

interface Result {
  host: { cpus: number; accelerator: Record<string, string>; load1: { min: number; max: number } };
  samples: number;
  p3: {
    serial: { ours: Variant; ttydLike: Variant; ratioOursToTtydLike: { p50: number; p95: number } };
    ssh: Record<string, unknown>;
    ab: Record<string, Variant> | null;
    idleCostOfCursorBlink: Record<string, { styleRecalcsPerSec: number; layoutsPerSec: number; mainThreadTaskMsPerSec: number }> | null;
  };
  p4: (Record<string, unknown> & { ratioOursToWetty: number | null; ratioOursToTtydLike: number | null }) | null;
  ceiling: Record<string, unknown> | null;
}

export function printReport(r: Result, terms: { key: string; name: string; server: string }[]): void {
  console.log(`terminal latency (${r.host.cpus} CPUs; guest accelerator ${r.host.accelerator.x86_64}; 1-min load ${r.host.load1.min}–${r.host.load1.max})`);
  console.log(`P3 keystroke → echo on screen, ${r.samples} samples each`);
  const s = r.p3.serial;
  console.log(row('serial: our page', s.ours.xterm)); console.log(stageLine(s.ours.stages));
  console.log(row('serial: ttyd-like page', s.ttydLike.xterm)); console.log(stageLine(s.ttydLike.stages));
  console.log(`  serial: ratio ours / ttyd-like: p50 ${s.ratioOursToTtydLike.p50}, p95 ${s.ratioOursToTtydLike.p95}`);
  if (s.ours.raw) console.log(row('serial: our endpoint, raw websocket', s.ours.raw));
  if (s.ttydLike.raw) console.log(row('serial: ttyd-like endpoint, raw websocket', s.ttydLike.raw));
  for (const t of terms) {
    const v = r.p3.ssh[t.key] as Variant;
    const term = v.term as { renderer: string };
    console.log(row(`ssh: ${t.name} (${term.renderer})`, v.xterm));
    console.log(stageLine(v.stages));
    console.log(`      page share (echo frame in → on screen) p50/p95: ${v.pageShare.p50}/${v.pageShare.p95} ms`);
    if (v.raw) console.log(row(`ssh: ${t.name} endpoint, raw websocket`, v.raw));
  }
  for (const k of ['ratioOursToWetty', 'ratioOursToTtydLike', 'ratioOursWebglToOurs']) {
    const x = r.p3.ssh[k] as { p50: number; p95: number } | null;
    if (x) console.log(`  ssh: ${k}: p50 ${x.p50}, p95 ${x.p95}`);
  }
  if (r.p3.ab) for (const [k, v] of Object.entries(r.p3.ab)) { console.log(row(`A/B ${k}`, v.xterm)); console.log(stageLine(v.stages)); }
  if (r.p3.idleCostOfCursorBlink) {
    for (const [k, v] of Object.entries(r.p3.idleCostOfCursorBlink)) console.log(`  idle, ${k}: ${v.styleRecalcsPerSec} style recalcs/s, ${v.layoutsPerSec} layouts/s, main-thread tasks ${v.mainThreadTaskMsPerSec} ms/s`);
  }
  if (r.p4) {
    console.log(`P4 throughput: ${r.p4.command}`);
    const rows: [string, string | null, FloodResult | undefined][] = [
      ...terms.map((t) => [t.name, t.server, r.p4![t.key] as FloodResult] as [string, string, FloodResult]),
      ['our endpoint, raw websocket', 'panel', r.p4.oursRaw as FloodResult | undefined],
      ['system ssh -tt, no web terminal', null, r.p4.directSsh as FloodResult | undefined],
    ];
    for (const [k, server, f] of rows) {
      if (!f) continue;
      console.log(`  ${k.padEnd(34)} ${f.mibPerSec} MiB/s (${(f.bytes / (1 << 20)).toFixed(1)} MiB in ${f.seconds} s${f.frames ? `; ${f.frames} frames, ${f.meanFrameBytes} B each on average` : ''})`);
      if (f.hostCpuMsPerMiB) console.log(cpuLine(f.hostCpuMsPerMiB, server));
      if (f.clicks) console.log(`    clicks during the flood: ${f.clicks.n}; Playwright click p50 ${f.clicks.clickMs.p50} ms; handler delay p50 ${f.clicks.handlerDelayMs.p50} ms, p95 ${f.clicks.handlerDelayMs.p95} ms, max ${f.clicks.handlerDelayMs.max} ms`);
    }
    console.log(`  ratio ours / WeTTY: ${r.p4.ratioOursToWetty}; ours / ttyd-like: ${r.p4.ratioOursToTtydLike}`);
  }
  if (r.ceiling) {
    const c = r.ceiling as { xtermFedInPage: { ours: { mibPerSec: number }; ttydLike: { mibPerSec: number } }; hostShellFlood: { ttydLikeXterm: FloodResult; ttydLikeRaw: FloodResult } };
    console.log('Ceiling without the guest:');
    console.log(`  bytes fed straight into xterm: our page ${c.xtermFedInPage.ours.mibPerSec} MiB/s, ttyd-like page ${c.xtermFedInPage.ttydLike.mibPerSec} MiB/s`);
    for (const [k, f] of [['host shell → ttyd-like xterm', c.hostShellFlood.ttydLikeXterm], ['host shell → ttyd-like raw websocket', c.hostShellFlood.ttydLikeRaw]] as const) {
      console.log(`  ${k.padEnd(38)} ${f.mibPerSec} MiB/s (${(f.bytes / (1 << 20)).toFixed(1)} MiB in ${f.seconds} s; ${f.frames} frames, ${f.meanFrameBytes} B each on average)`);
    }
  }
}
