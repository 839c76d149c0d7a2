// The peers the panel's terminals are measured against, each its own process on 127.0.0.1:
//   - WeTTY (npm package `wetty`: express + socket.io + node-pty on the server, xterm.js 6 with the WebGL
//     addon in the page), installed by the bench into ~/.cache/pvmlab/bench/wetty-<version>/ — never a
//     dependency of pvmlab (`npm ci` for users stays as it is);
//   - ttyd-like (bench/ttyd-like/): a ttyd-equivalent built from the panel's own parts, NOT ttyd.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../e2e/harness.ts';
import { ROOT, sleep } from './common.ts';

export interface ServerProc { name: string; url: string; child: ChildProcess; stop(): Promise<void> }

function stopper(child: ChildProcess): () => Promise<void> {
  return () => new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) { resolve(); return; }
    const t = setTimeout(() => { try { child.kill('SIGKILL'); } catch { /* gone */ } }, 5000);
    child.once('exit', () => { clearTimeout(t); resolve(); });
    child.kill('SIGTERM');
  });
}

/** The ttyd-like server running `command` (a fresh pty per WebSocket). `nodeArgs` e.g. ['--cpu-prof', …]. */
export async function startTtydLike(command: string[], cwd: string, title: string, nodeArgs: string[] = []): Promise<ServerProc> {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', path.join(ROOT, 'bench/ttyd-like/server.ts'), '--cwd', cwd, '--title', title, '--', ...command],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('ttyd-like: no "listening" line within 60 s')), 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`ttyd-like exited ${code}`)); });
  });
  child.stdout!.resume();
  return { name: 'ttyd-like', url, child, stop: stopper(child) };
}

/** The WeTTY version the bench installs: its engines say node >=20 (one dependency, file-type 22, says >=22: see installWetty). */
export const WETTY_VERSION = process.env.PVMLAB_BENCH_WETTY ?? '3.2.0';

export interface WettyInstall { dir: string; version: string; main: string; nodePty: string; engines: unknown; warnings: string[] }

/**
 * `npm install wetty@<version>` into ~/.cache/pvmlab/bench/wetty-<version>/ (once; later runs reuse it),
 * with node-pty's install script allowed (it compiles its addon: no Linux prebuild ships). Returns where
 * it is and what npm warned about (engine mismatches). Throws with npm's output when the install fails.
 */
export function installWetty(version = WETTY_VERSION): WettyInstall {
  const dir = path.join(os.homedir(), '.cache', 'pvmlab', 'bench', `wetty-${version}`);
  const main = path.join(dir, 'node_modules', 'wetty', 'build', 'main.js');
  const marker = path.join(dir, 'install.log');
  if (!fs.existsSync(main) || !fs.existsSync(path.join(dir, 'node_modules', 'node-pty', 'build', 'Release', 'pty.node'))) {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify({ private: true, description: 'pvmlab bench only: WeTTY, the peer of bench/terminal-latency.ts', allowScripts: { 'node-pty': true } }, null, 2)}\n`);
    console.error(`[bench] installing wetty@${version} into ${dir} (npm registry)…`);
    let out = '';
    try {
      out = execFileSync('npm', ['install', '--no-audit', '--no-fund', '--omit=dev', '--foreground-scripts', `wetty@${version}`], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string; message: string };
      throw new Error(`npm install wetty@${version} failed: ${err.message}\n${err.stdout ?? ''}${err.stderr ?? ''}`);
    }
    fs.writeFileSync(marker, out);
  }
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'node_modules', 'wetty', 'package.json'), 'utf8')) as { version: string; engines?: unknown };
  const nodePty = (JSON.parse(fs.readFileSync(path.join(dir, 'node_modules', 'node-pty', 'package.json'), 'utf8')) as { version: string }).version;
  // npm's EBADENGINE warnings (printed to stderr at install; re-derived here so a cached install reports them too).
  const warnings: string[] = [];
  const major = Number(process.versions.node.split('.')[0]);
  for (const d of fs.readdirSync(path.join(dir, 'node_modules'))) {
    const names = d.startsWith('@') ? fs.readdirSync(path.join(dir, 'node_modules', d)).map((x) => `${d}/${x}`) : [d];
    for (const n of names) {
      try {
        const p = JSON.parse(fs.readFileSync(path.join(dir, 'node_modules', n, 'package.json'), 'utf8')) as { version: string; engines?: { node?: string } };
        const need = /^>=\s*(\d+)/.exec(p.engines?.node ?? '')?.[1];
        if (need && Number(need) > major) warnings.push(`${n}@${p.version} wants node ${p.engines!.node} (running ${process.version})`);
      } catch { /* not a package */ }
    }
  }
  return { dir, version: pkg.version, main, nodePty, engines: pkg.engines, warnings };
}

/**
 * WeTTY on 127.0.0.1:<free port>/wetty, its ssh client aimed at the guest through the lab's own ssh_config
 * (same Host block, key, known_hosts and ControlMaster as the panel's `ssh -F <lab>/configs/ssh_config`).
 * WeTTY builds its argv itself: `ssh -t -F <config> -p <port> -o PreferredAuthentications=publickey
 * -o UserKnownHostsFile=<lab known_hosts> -o StrictHostKeyChecking=yes -o EscapeChar=none -- <user>@<host>`
 * (under /usr/bin/env -S), on a fresh pty per page. No authentication (like ttyd without -c): a bench-only
 * process that lives for one run, loopback only.
 */
export async function startWetty(w: WettyInstall, ssh: { config: string; host: string; user: string; port: number; knownHosts: string }, cwd: string, nodeArgs: string[] = []): Promise<ServerProc> {
  const port = await freePort();
  const child = spawn(process.execPath, [...nodeArgs, w.main, '--host', '127.0.0.1', '--port', String(port), '--base', '/wetty/',
    '--ssh-host', ssh.host, '--ssh-user', ssh.user, '--ssh-port', String(ssh.port), '--ssh-config', ssh.config, '--ssh-auth', 'publickey',
    '--known-hosts', ssh.knownHosts, '--force-ssh', '--title', `WeTTY ${ssh.host}`, '--log-level', 'warn'],
  { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_ENV: 'production' } });
  let log = '';
  child.stdout!.on('data', (d: Buffer) => { log = (log + d.toString()).slice(-4000); });
  child.stderr!.on('data', (d: Buffer) => { log = (log + d.toString()).slice(-4000); });
  const url = `http://127.0.0.1:${port}/wetty`;
  const end = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wetty exited ${child.exitCode}: ${log}`);
    try { if ((await fetch(url)).ok) break; } catch { /* not yet */ }
    if (Date.now() > end) { await stopper(child)(); throw new Error(`wetty: no answer on ${url} within 60 s: ${log}`); }
    await sleep(250);
  }
  return { name: 'wetty', url, child, stop: stopper(child) };
}
