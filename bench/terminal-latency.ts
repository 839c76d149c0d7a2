// Benchmark P3 + P4: the panel's browser terminals side by side with WeTTY (a real, independent web terminal,
// from its npm package) and a ttyd-equivalent, in ONE run against the same guest. Not a test (DESIGN §5): it
// prints figures and writes bench/results/terminal-latency.json. Run on purpose:
//
//   npx tsx bench/terminal-latency.ts [--samples 200] [--rounds 4] [--flood-mib 64] [--skip-flood] [--idle 10]
//                                     [--no-wetty] [--no-webgl] [--ab] [--ab-samples 100] [--ceiling]
//
// Setup (bench/terminal/lab.ts): one real panel (started like the e2e suite, temp lab home) and one tiny test
// guest (scripts/build-test-guest.sh x86_64; role provisioner, user-mode uplink, dropbear), under the
// accelerator the doctor picks (each row says which). Debian's Chromium (headless, the e2e flags).
//
// The peers (bench/terminal/servers.ts), each its own process on 127.0.0.1 for the run:
//   - WeTTY from npm (`wetty`, installed by the bench into ~/.cache/pvmlab/bench/, not a pvmlab dependency):
//     express + socket.io + node-pty, xterm.js 6 with its WebGL addon in the page (falls back to DOM). Its
//     ssh is pointed at the same guest through the lab's ssh_config (same Host block, key, known_hosts,
//     ControlMaster as the panel's `ssh -F <lab>/configs/ssh_config -tt bench-term`);
//   - ttyd-like (bench/ttyd-like/): a ttyd-EQUIVALENT built from the panel's parts — NOT ttyd (Debian 12 has no
//     ttyd package); it runs the panel's exact ssh argv, and for the serial console `socat` on the QEMU socket.
// Pages: ours (the renderer the page picks on this browser: components/terminal/renderer.ts), ours with the
// WebGL renderer forced (--no-webgl: without), WeTTY, ttyd-like. WeTTY has no serial console.
//
// P3 keystroke → echo (bench/terminal/echo.ts): `cat >/dev/null` on the guest's tty, one real key press at a
// time (~30 ms apart, 10 warm-up keys per block), timed in the page from the keydown to xterm's render showing
// the echo, with stages. SSH blocks rotate over the pages (--rounds blocks each, order reversed every other
// round) so load drift hits all alike. Serial: ttyd-like first, then ours (QEMU's serial socket serves one
// client at a time). raw: a plain WebSocket from the same page (ours and ttyd-like protocols).
// P4 throughput (bench/terminal/flood.ts): `head -c N/2 MiB /dev/zero | base64; echo FLOOD-2` in each page's
// SSH console, twice per page in the order A B C D, D C B A; MiB/s of bytes handed to term.write until the
// marker is parsed; a click every 500 ms meanwhile (handler delay = performance.now() − event.timeStamp); host
// CPU per MiB per process group (panel / WeTTY / ttyd-like server process, browser, guest QEMU, ssh master)
// with each group's idle rate (--idle s, measured with every page open and at its prompt) subtracted. Then
// our raw socket and the system `ssh -tt` into a pipe. --ceiling: bytes fed straight into each page's xterm,
// and a host bash behind a ttyd-like server (no guest). The server side alone: bench/terminal/byte-path.ts.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium, type Locator, type Page } from '@playwright/test';
import { CHROMIUM, CHROMIUM_ARGS } from '../e2e/harness.ts';
import { accelLabels } from './accel.ts';
import { CpuGroups, ROOT, T0, VM, cpuDiff, idleRate, loads, mark, r2, ratio, retrying, sleep, stats, type CpuSample } from './terminal/common.ts';
import { rawEcho, variant, xtermEcho, type EchoSample, type Trace, type Variant } from './terminal/echo.ts';
import { directSshFlood, feedXterm, floodSummary, rawFlood, rawFloodTtyd, xtermFlood, type FloodPart, type FloodResult } from './terminal/flood.ts';
import { startLab } from './terminal/lab.ts';
import { PROBE_INIT, idleCost, setOption, termInfo, waitPrompt, type IdleCost } from './terminal/probes.ts';
import { printReport } from './terminal/report.ts';
import { installWetty, startTtydLike, startWetty, type ServerProc, type WettyInstall } from './terminal/servers.ts';

const { values: opts } = parseArgs({
  options: {
    samples: { type: 'string', default: '200' }, rounds: { type: 'string', default: '4' },
    'flood-mib': { type: 'string', default: '64' }, 'skip-flood': { type: 'boolean', default: false }, idle: { type: 'string', default: '10' },
    'no-wetty': { type: 'boolean', default: false }, 'no-webgl': { type: 'boolean', default: false },
    ab: { type: 'boolean', default: false }, 'ab-samples': { type: 'string', default: '100' }, ceiling: { type: 'boolean', default: false },
  },
});
const SAMPLES = Number(opts.samples);
const ROUNDS = Math.max(1, Number(opts.rounds));
const FLOOD_MIB = Number(opts['flood-mib']);
const RESULTS = path.join(ROOT, 'bench', 'results', 'terminal-latency.json');

/** One terminal page in the SSH comparison. */
interface Term { key: string; name: string; page: Page; label: string; server: string; click: Locator }

async function main(): Promise<void> {
  let wetty: WettyInstall | null = null;
  let wettyError: string | null = null;
  if (!opts['no-wetty']) {
    try { wetty = installWetty(); } catch (e) { wettyError = (e as Error).message.slice(0, 4000); console.error(`[bench] WeTTY: ${wettyError}`); }
  }
  mark('setup');
  const lab = await startLab();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const servers: ServerProc[] = [];
  const groups = new CpuGroups();
  const trace: Trace = { groups, blocks: [], requests: [] };
  try {
    const { panel } = lab;
    const ttydSsh = await startTtydLike(lab.sshCmd, panel.home, VM);
    const serialCmd = ['socat', '-,raw,echo=0', `UNIX-CONNECT:${lab.serialSock}`];
    const ttydSerial = await startTtydLike(serialCmd, panel.home, `${VM} serial`);
    servers.push(ttydSsh, ttydSerial);
    let wettySrv: ServerProc | null = null;
    if (wetty) {
      try { wettySrv = await startWetty(wetty, lab.ssh, panel.home); servers.push(wettySrv); } catch (e) { wettyError = (e as Error).message.slice(0, 4000); console.error(`[bench] WeTTY: ${wettyError}`); }
    }
    groups.servers.set('panel', panel.pid);
    if (wettySrv) groups.servers.set('wetty', wettySrv.child.pid!);
    groups.servers.set('ttyd-like', ttydSsh.child.pid!);
    groups.servers.set('ttyd-like serial', ttydSerial.child.pid!);
    groups.guest = lab.guestPid;
    groups.home = panel.home;

    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.addInitScript(PROBE_INIT);
    const newPage = async (name: string) => {
      const pg = await context.newPage();
      pg.on('request', (r) => { if (!r.url().startsWith('data:')) trace.requests.push({ t: Date.now(), page: name, url: `${r.method()} ${r.url().replace(/^https?:\/\/127\.0\.0\.1:\d+/, '').slice(0, 120)}` }); });
      return pg;
    };
    const ours = await newPage('ours');
    await ours.goto(panel.launchUrl);
    const theirs = await newPage('ttyd-like');

    // Serial: ttyd-like first (QEMU's serial socket has one client at a time; the panel keeps its connection).
    mark('P3 serial, ttyd-like xterm');
    await theirs.goto(ttydSerial.url);
    await theirs.getByTestId('ttyd-xterm').click();
    await theirs.keyboard.press('Enter');
    await waitPrompt(theirs, 'ttyd');
    const serialTtyd = await xtermEcho(trace, theirs, 'ttyd', SAMPLES);
    const serialTtydTerm = await termInfo(theirs, 'ttyd');
    await theirs.goto(ttydSerial.url.replace(/\/$/, '/nonexistent')); // same origin, no terminal of its own
    mark('P3 serial, ttyd-like raw websocket');
    const serialTtydRaw = await retrying('serial ttyd-like raw', () => rawEcho(theirs, `${ttydSerial.url.replace('http', 'ws')}ws`, 'ttyd', SAMPLES));
    await theirs.goto('about:blank');
    mark('P3 serial, our xterm');
    await ours.bringToFront();
    await ours.goto(`${panel.baseURL}/vms/${VM}/serial`);
    await ours.getByTestId('serial-state').and(ours.locator('[data-phase="live"]')).waitFor();
    await ours.getByTestId('serial-xterm').click();
    await ours.keyboard.press('Enter');
    await waitPrompt(ours, 'serial');
    const serialOurs = await xtermEcho(trace, ours, 'serial', SAMPLES);
    const serialOursTerm = await termInfo(ours, 'serial');
    await ours.goto(`${panel.baseURL}/setup`);
    mark('P3 serial, our raw websocket');
    const serialOursRaw = await retrying('serial raw', () => rawEcho(ours, `ws://127.0.0.1:${panel.port}/ws/serial/${VM}`, 'panel', SAMPLES));

    // SSH: every page open at its prompt.
    const terms: Term[] = [];
    await ours.goto(`${panel.baseURL}/vms/${VM}/console`);
    await waitPrompt(ours, 'ssh');
    terms.push({ key: 'ours', name: 'ours', page: ours, label: 'ssh', server: 'panel', click: ours.getByTitle('Copy the selection (Ctrl+Shift+C)') });
    if (!opts['no-webgl']) {
      // Our page again with the WebGL renderer forced (localStorage is read when the terminal mounts).
      const gl = await newPage('ours-webgl');
      await gl.goto(`${panel.baseURL}/setup`);
      await gl.evaluate(() => localStorage.setItem('pvmlab.terminal.renderer', 'webgl'));
      await gl.goto(`${panel.baseURL}/vms/${VM}/console`);
      await waitPrompt(gl, 'ssh');
      await gl.evaluate(() => localStorage.removeItem('pvmlab.terminal.renderer'));
      terms.push({ key: 'oursWebgl', name: 'ours, WebGL forced', page: gl, label: 'ssh', server: 'panel', click: gl.getByTitle('Copy the selection (Ctrl+Shift+C)') });
    }
    if (wettySrv) {
      const w = await newPage('wetty');
      await w.goto(wettySrv.url);
      await w.getByTestId('wetty-xterm').waitFor({ timeout: 60_000 });
      await waitPrompt(w, 'wetty');
      terms.push({ key: 'wetty', name: 'WeTTY', page: w, label: 'wetty', server: 'wetty', click: w.locator('#functions > a.toggler') });
    }
    await theirs.goto(ttydSsh.url);
    await waitPrompt(theirs, 'ttyd');
    terms.push({ key: 'ttydLike', name: 'ttyd-like', page: theirs, label: 'ttyd', server: 'ttyd-like', click: theirs.locator('#bench-click') });

    const echo: Record<string, EchoSample[]> = Object.fromEntries(terms.map((t) => [t.key, []]));
    const part = Math.ceil(SAMPLES / ROUNDS);
    for (let round = 1; round <= ROUNDS; round++) {
      for (const t of round % 2 ? terms : [...terms].reverse()) {
        mark(`P3 ssh, ${t.name} (${round}/${ROUNDS})`);
        echo[t.key].push(...await xtermEcho(trace, t.page, t.label, part));
        await waitPrompt(t.page, t.label);
      }
    }
    const info = Object.fromEntries(await Promise.all(terms.map(async (t) => [t.key, await termInfo(t.page, t.label)] as const)));

    let ab: Record<string, Variant> | null = null;
    let idleBlink: Record<string, IdleCost> | null = null;
    if (opts.ab) {
      // Our page and the ttyd-like page with the cursor blink flipped at run time; the idle cost of the blink.
      const abPart = Math.ceil(Number(opts['ab-samples']) / ROUNDS);
      ab = {};
      for (const t of [terms[0], terms[terms.length - 1]]) {
        const blink = info[t.key].cursorBlink;
        const xs: EchoSample[] = [];
        for (let round = 1; round <= ROUNDS; round++) {
          mark(`A/B ssh, ${t.name} with cursorBlink ${!blink} (${round}/${ROUNDS})`);
          await setOption(t.page, t.label, 'cursorBlink', !blink);
          xs.push(...await xtermEcho(trace, t.page, t.label, abPart));
          await setOption(t.page, t.label, 'cursorBlink', blink);
          await waitPrompt(t.page, t.label);
        }
        ab[`${t.name}, cursorBlink ${!blink ? 'on' : 'off'}`] = variant(xs, { ...info[t.key], cursorBlink: !blink });
      }
      idleBlink = {};
      for (const blink of [false, true]) {
        await setOption(ours, 'ssh', 'cursorBlink', blink);
        idleBlink[`ours, cursorBlink ${blink ? 'on' : 'off'}`] = await idleCost(ours, 'ssh', 5000);
      }
      await setOption(ours, 'ssh', 'cursorBlink', info.ours.cursorBlink);
    }

    mark(`idle baseline, ${opts.idle} s, every page open at its prompt`);
    const idle: CpuSample = await idleRate(groups, Number(opts.idle) * 1000);

    let flood: Record<string, FloodResult | null> | null = null;
    if (!opts['skip-flood']) {
      const half = FLOOD_MIB / 2;
      const parts: Record<string, FloodPart[]> = Object.fromEntries(terms.map((t) => [t.key, []]));
      for (const order of [terms, [...terms].reverse()]) {
        for (const t of order) {
          mark(`P4 ssh flood ${half} MiB, ${t.name}`);
          parts[t.key].push(await xtermFlood(groups, t.page, t.label, t.click, half));
          await waitPrompt(t.page, t.label);
        }
      }
      flood = Object.fromEntries(terms.map((t) => [t.key, floodSummary(parts[t.key], idle)]));
    }

    for (const t of terms.slice(1)) await t.page.goto('about:blank');
    await ours.goto(`${panel.baseURL}/setup`);
    mark('P3 ssh, our raw websocket');
    const sshOursRaw = await retrying('ssh raw', () => rawEcho(ours, `ws://127.0.0.1:${panel.port}/ws/ssh/${VM}?session=benchraw${Date.now()}&cols=120&rows=40`, 'panel', SAMPLES));
    mark('P3 ssh, ttyd-like raw websocket');
    await theirs.goto(ttydSsh.url.replace(/\/$/, '/nonexistent'));
    const sshTtydRaw = await retrying('ssh ttyd-like raw', () => rawEcho(theirs, `${ttydSsh.url.replace('http', 'ws')}ws`, 'ttyd', SAMPLES));
    if (flood) {
      const withCpu = async (run: () => Promise<FloodResult>): Promise<FloodResult> => {
        const c0 = groups.sample();
        const f = await run();
        return { ...f, hostCpuMsPerMiB: floodSummary([{ bytes: f.bytes, frames: f.frames ?? 1, ms: f.seconds * 1000, clickMs: [], delays: [], load1: 0, cpu: cpuDiff(c0, groups.sample()) }], idle).hostCpuMsPerMiB };
      };
      mark(`P4 ssh flood ${FLOOD_MIB} MiB, our raw websocket`);
      flood.oursRaw = await withCpu(() => retrying('ssh raw flood', () => rawFlood(ours, `/ws/ssh/${VM}?session=benchflood${Date.now()}&cols=120&rows=40`, FLOOD_MIB)));
      mark(`P4 ssh flood ${FLOOD_MIB} MiB, system ssh -tt without a web terminal`);
      flood.directSsh = await withCpu(() => retrying('system ssh flood', () => directSshFlood(lab.sshCmd, FLOOD_MIB)));
    }

    let ceiling: Record<string, unknown> | null = null;
    if (opts.ceiling) {
      const host = await startTtydLike(['bash', '--norc', '--noprofile', '-i'], os.tmpdir(), 'host shell');
      servers.push(host);
      groups.servers.set('ttyd-like host shell', host.child.pid!);
      mark(`ceiling: ${FLOOD_MIB} MiB fed straight into each page's xterm`);
      await ours.goto(`${panel.baseURL}/vms/${VM}/console`);
      await waitPrompt(ours, 'ssh');
      await theirs.goto(host.url);
      await sleep(1500);
      const feedOurs = await feedXterm(ours, 'ssh', FLOOD_MIB);
      const feedTtyd = await feedXterm(theirs, 'ttyd', FLOOD_MIB);
      mark(`ceiling: host shell flood ${FLOOD_MIB} MiB, ttyd-like xterm, then raw websocket`);
      const hostXterm = floodSummary([await xtermFlood(groups, theirs, 'ttyd', theirs.locator('#bench-click'), FLOOD_MIB)]);
      await theirs.goto(host.url.replace(/\/$/, '/nonexistent'));
      const hostRaw = await rawFloodTtyd(theirs, `${host.url.replace('http', 'ws')}ws`, FLOOD_MIB);
      ceiling = { xtermFedInPage: { ours: feedOurs, ttydLike: feedTtyd }, hostShellFlood: { ttydLikeXterm: hostXterm, ttydLikeRaw: hostRaw } };
    }
    mark('done');

    const p50 = (xs: EchoSample[]) => stats(xs.map((x) => x.rendered));
    const ssh: Record<string, Variant> = Object.fromEntries(terms.map((t) => [t.key, variant(echo[t.key], info[t.key],
      t.key === 'ours' ? sshOursRaw : t.key === 'ttydLike' ? sshTtydRaw : undefined)]));
    const vs = (peer: string) => (echo[peer] ? { p50: ratio(p50(echo.ours).p50, p50(echo[peer]).p50), p95: ratio(p50(echo.ours).p95, p50(echo[peer]).p95) } : null);
    const load1 = loads.map((l) => l.load1);
    const result = {
      at: new Date().toISOString(),
      host: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version, chromium: browser.version(), accelerator: await accelLabels(),
        load1: { min: Math.min(...load1), max: Math.max(...load1), byPhase: loads } },
      peers: {
        wetty: wetty ? { version: wetty.version, nodePty: wetty.nodePty, engines: wetty.engines, engineWarnings: wetty.warnings, installedIn: wetty.dir,
          sshArgv: 'ssh -t -F <lab ssh_config> -p <port> -o PreferredAuthentications=publickey -o UserKnownHostsFile=<lab known_hosts> -o StrictHostKeyChecking=yes -o EscapeChar=none -- root@bench-term', error: wettyError }
          : { error: wettyError ?? 'not run (--no-wetty)' },
        ttydLike: { isTtyd: false, what: 'bench/ttyd-like/: a ttyd-EQUIVALENT built from the panel\'s parts, NOT ttyd (Debian 12 has no ttyd package)', sshCommand: lab.sshCmd, serialCommand: serialCmd },
      },
      cancelledPanelJobs: lab.cancelledJobs,
      samples: SAMPLES, rounds: ROUNDS,
      idleMsPerSec: idle,
      p3: {
        serial: { ours: variant(serialOurs, serialOursTerm, serialOursRaw), ttydLike: variant(serialTtyd, serialTtydTerm, serialTtydRaw),
          ratioOursToTtydLike: { p50: ratio(p50(serialOurs).p50, p50(serialTtyd).p50), p95: ratio(p50(serialOurs).p95, p50(serialTtyd).p95) } },
        ssh: { ...ssh, ratioOursToWetty: vs('wetty'), ratioOursToTtydLike: vs('ttydLike'), ratioOursWebglToOurs: echo.oursWebgl ? { p50: ratio(p50(echo.oursWebgl).p50, p50(echo.ours).p50), p95: ratio(p50(echo.oursWebgl).p95, p50(echo.ours).p95) } : null },
        ab, idleCostOfCursorBlink: idleBlink,
      },
      p4: flood ? { command: `two runs of head -c ${FLOOD_MIB / 2} MiB per page (the raw socket and system ssh: one of ${FLOOD_MIB} MiB)`, ...flood,
        ratioOursToWetty: flood.wetty && flood.ours ? ratio(flood.ours.mibPerSec, flood.wetty.mibPerSec) : null,
        ratioOursToTtydLike: flood.ttydLike && flood.ours ? ratio(flood.ours.mibPerSec, flood.ttydLike.mibPerSec) : null } : null,
      ceiling,
      blocks: trace.blocks,
      series: Object.fromEntries(Object.entries({ ...echo, serialOurs, serialTtyd }).map(([k, xs]) => [k, xs.map((x) => [r2((x.wall - T0) / 1000), r2(x.rendered), r2(x.msg)])])),
    };
    fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
    fs.writeFileSync(RESULTS, `${JSON.stringify(result, null, 2)}\n`);
    printReport(result, terms.map((t) => ({ key: t.key, name: t.name, server: t.server })));
    console.log(`written: ${path.relative(ROOT, RESULTS)}`);
  } finally {
    for (const s of servers) await s.stop();
    await browser.close();
    await lab.close();
  }
}

main().catch((e: unknown) => { console.error(e); process.exitCode = 1; });
