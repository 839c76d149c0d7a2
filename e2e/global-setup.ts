// Playwright global setup and teardown: one real panel for the whole run (see e2e/harness.ts for the
// contract tests rely on). Starts `pvmlab serve` on a free loopback port with a fresh lab home under
// /tmp, waits for its launch URL, publishes it to the workers, and stops everything afterwards.
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FullConfig } from '@playwright/test';
import { STATE_ENV, freePort, type PanelInfo } from './harness.ts';
import { runDirFor } from '../server/lab/rundir.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** From spawn to the launch URL when no build is needed. */
const START_TIMEOUT_MS = 120_000;
/** When `pvmlab serve` says it is building the Next app first: a few minutes on a small, busy machine. */
const BUILD_TIMEOUT_MS = Number(process.env.PVMLAB_E2E_BUILD_TIMEOUT_MS) || 600_000;
const BUILDING = /building the panel|Creating an optimized production build/;
const STOP_GRACE_MS = 10_000;
const OPEN_LINE = /^open: (http:\/\/127\.0\.0\.1:(\d+)\/\?token=([A-Za-z0-9_-]+))$/m;


function tail(file: string, lines = 40): string {
  try { return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n'); } catch { return '(no log)'; }
}

function groupAlive(pgid: number): boolean {
  try { process.kill(-pgid, 0); return true; } catch { return false; }
}

/** SIGTERM the panel's process group, wait, then SIGKILL whatever is left of it. */
async function stopGroup(child: ChildProcess): Promise<void> {
  const pgid = child.pid;
  if (!pgid || !groupAlive(pgid)) return;
  try { process.kill(-pgid, 'SIGTERM'); } catch { /* gone */ }
  const deadline = Date.now() + STOP_GRACE_MS;
  while (groupAlive(pgid) && Date.now() < deadline) await sleep(100);
  if (groupAlive(pgid)) {
    console.error(`[e2e] panel (pgid ${pgid}) ignored SIGTERM for ${STOP_GRACE_MS / 1000} s: SIGKILL`);
    try { process.kill(-pgid, 'SIGKILL'); } catch { /* gone */ }
    while (groupAlive(pgid)) await sleep(50);
  }
}

/**
 * VMs outlive the panel (QEMU daemonizes into its own session), so the group kill above does not reach
 * them. Kill the ones this run's lab home knows about — only if /proc says the pid really runs with a path
 * inside this home (never a stranger's process that reused the pid).
 */
function killLabVms(home: string): void {
  const pids = path.join(home, 'pids');
  let files: string[] = [];
  try { files = fs.readdirSync(pids).filter((f) => f.endsWith('.pid')); } catch { return; }
  for (const f of files) {
    const pid = Number(fs.readFileSync(path.join(pids, f), 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 1) continue;
    let cmdline = '';
    try { cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'); } catch { continue; }
    if (!cmdline.includes(home + '/')) continue;
    console.error(`[e2e] killing leftover VM ${f.replace(/\.pid$/, '')} (pid ${pid})`);
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }
}

async function startPanel(dir: string, home: string, log: string): Promise<{ child: ChildProcess; info: PanelInfo }> {
  const port = await freePort();
  fs.appendFileSync(log, `\n[e2e] starting pvmlab serve --port ${port}\n`);
  const fd = fs.openSync(log, 'a');
  // No telemetry from `next build`: only loopback traffic here.
  const env: NodeJS.ProcessEnv = { ...process.env, PVMLAB_HOME: home, NEXT_TELEMETRY_DISABLED: '1' };
  delete env.PVMLAB_PORT;
  // `node --import tsx` is what `npx tsx` ends up running, minus two wrapper processes (npm exec and the
  // tsx launcher, which do not forward SIGTERM reliably). detached: its own process group, so teardown
  // can signal the panel and anything it spawned (next build) by group id.
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/cli.ts', 'serve', '--port', String(port)], {
    cwd: ROOT, env, stdio: ['ignore', fd, fd], detached: true,
  });
  fs.closeSync(fd);
  const status: { exited: number | string | null } = { exited: null };
  child.once('exit', (code, signal) => { status.exited = code ?? signal ?? 'exit'; });
  const t0 = Date.now();
  let announced = false;
  for (;;) {
    const text = fs.readFileSync(log, 'utf8').split('[e2e] starting').at(-1) ?? '';
    const building = BUILDING.test(text);
    if (building && !announced) {
      announced = true;
      console.log(`[e2e] pvmlab serve is building the panel first (next build; up to ${BUILD_TIMEOUT_MS / 60_000} min)…`);
    }
    const limit = building ? BUILD_TIMEOUT_MS : START_TIMEOUT_MS;
    const m = OPEN_LINE.exec(text);
    if (m) {
      const info: PanelInfo = {
        baseURL: `http://127.0.0.1:${m[2]}`,
        launchUrl: m[1],
        port: Number(m[2]),
        token: m[3],
        home,
        dir,
        log,
        pid: child.pid!,
      };
      if (info.port !== port) throw new Error(`panel printed port ${info.port}, asked for ${port}`);
      return { child, info };
    }
    if (status.exited !== null) {
      await stopGroup(child); // anything it left behind in its group (a half-done next build)
      throw new Error(`pvmlab serve exited (${status.exited}) before printing its launch URL:\n${tail(log)}`);
    }
    if (Date.now() - t0 > limit) {
      await stopGroup(child);
      throw new Error(`pvmlab serve printed no launch URL within ${limit / 1000} s${building ? ' (building)' : ''}:\n${tail(log)}`);
    }
    await sleep(100);
  }
}

export default async function globalSetup(_config: FullConfig): Promise<() => Promise<void>> {
  // (Sockets live in the lab's own short run directory, server/lab/rundir.ts: the home may be anywhere.)
  const dir = fs.mkdtempSync('/tmp/pve-');
  fs.chmodSync(dir, 0o700);
  const home = path.join(dir, 'home');
  const log = path.join(dir, 'panel.log');
  let started: { child: ChildProcess; info: PanelInfo } | undefined;
  // The free port is only reserved until we close it: retry if someone else grabbed it meanwhile.
  for (let attempt = 1; !started; attempt++) {
    try {
      started = await startPanel(dir, home, log);
    } catch (e) {
      const busy = /EADDRINUSE/.test(fs.readFileSync(log, 'utf8'));
      if (!busy || attempt >= 3) {
        fs.rmSync(dir, { recursive: true, force: true });
        throw e;
      }
    }
  }
  const { child, info } = started;
  const stateFile = path.join(dir, 'panel.json');
  fs.writeFileSync(stateFile, JSON.stringify(info, null, 2), { mode: 0o600 });
  process.env[STATE_ENV] = stateFile; // inherited by the worker processes
  console.log(`[e2e] panel ${info.baseURL} (pid ${info.pid}, lab home ${home})`);

  // Last resort if the runner dies without running the teardown.
  const onExit = () => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } };
  process.once('exit', onExit);

  return async function globalTeardown() {
    await stopGroup(child);
    process.off('exit', onExit);
    killLabVms(home);
    fs.rmSync(runDirFor(home), { recursive: true, force: true }); // the lab's sockets (QEMU, ssh masters)
    if (process.env.PVMLAB_E2E_KEEP === '1') {
      console.log(`[e2e] kept ${dir} (PVMLAB_E2E_KEEP=1); panel log: ${log}`);
    } else {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
}
