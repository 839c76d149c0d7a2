// The pxeboot stack inside the provisioner: source sync, image build (inside the VM: the host needs no
// Docker), the container, its health. Plans are pure; `Stack` executes them over SSH.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { lineSplitter } from '../consolelog.ts';
import path from 'node:path';
import { execa } from 'execa';
import type { LabConfig } from '../config.ts';
import { type Remote, RemoteError, } from './remote.ts';
import { UPLOAD_EXIT, uploadArgv } from './upload.ts';
import { BadRequestError, ConflictError } from '../errors.ts';
import { LOCAL_BOOT_MARK } from './install.ts';

export const STACK_SRC = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../pxeboot_stack');
export const STACK_DIR = '/opt/pvmlab/pxeboot_stack';
export const PXE_DIR = '/var/lib/pvmlab/pxe';
export const IMAGE = 'pvmlab/pxeboot:latest';
export const OFFLINE_BASE = 'pvmlab/pxeboot-base:bookworm';
export const CONTAINER = 'pxeboot';
export const PRIVATE_IF = 'priv0';

/** The files that make the image (tests and docs excluded), sorted. */
export function stackFiles(dir = STACK_SRC): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(path.join(dir, d), { withFileTypes: true })) {
      const rel = d ? `${d}/${e.name}` : e.name;
      if (e.isDirectory()) { if (rel !== 'test') walk(rel); } else if (!rel.endsWith('.md')) out.push(rel);
    }
  };
  walk('');
  return out.sort();
}

export function stackHash(dir = STACK_SRC): string {
  const h = crypto.createHash('sha256');
  for (const f of stackFiles(dir)) h.update(f).update('\0').update(fs.readFileSync(path.join(dir, f))).update('\0');
  return h.digest('hex').slice(0, 16);
}

/** `docker run` for the stack: host networking and only the capabilities dnsmasq needs. Pure. */
export function planDockerRun(cfg: LabConfig, image = IMAGE): string[] {
  const n = cfg.network;
  return ['docker', 'run', '-d', '--name', CONTAINER, '--network', 'host',
    // Docker's default set plus what DHCP/TFTP/RA need — the combination verified in a real provisioner.
    '--cap-add', 'NET_ADMIN', '--cap-add', 'NET_BIND_SERVICE', '--cap-add', 'NET_RAW',
    '--restart', 'unless-stopped', '-v', `${PXE_DIR}:/pxe`,
    '-e', `PXE_INTERFACE=${PRIVATE_IF}`, '-e', `PXE_SERVER_IP=${n.provisionerIp}`, '-e', `PXE_SUBNET=${n.subnet}`,
    '-e', `PXE_RANGE_START=${n.dhcpStart}`, '-e', `PXE_RANGE_END=${n.dhcpEnd}`, '-e', `PXE_ULA=${n.ula}`,
    image];
}

/** `docker build` inside the provisioner, labelled with the source hash so an unchanged stack is not rebuilt. Pure. */
export function planDockerBuild(base: string, hash: string): string[] {
  return ['env', 'DOCKER_BUILDKIT=1', 'docker', 'build', ...(base === OFFLINE_BASE ? ['--network', 'none'] : []), '--build-arg', `BASE_IMAGE=${base}`, '--label', `pvmlab.stack-hash=${hash}`, '-t', IMAGE, STACK_DIR];
}

/** A file under PXE_DIR that the panel renders (reservations, per-MAC boot scripts). */
export interface PxeFile { rel: string; content: string }

const PXE_REL = /^[a-z0-9][a-z0-9/._:-]*$/;

/**
 * One shell script (run as `sh -s`, fed on stdin) that publishes the panel's PXE files in one SSH round trip:
 * each file written atomically (temp + rename), per-MAC scripts no longer rendered removed, then SIGHUP
 * to dnsmasq. Contents travel base64-encoded and paths are checked here, so nothing user-typed is ever
 * shell syntax. Pure.
 */
export function planPxePublish(files: PxeFile[]): string {
  for (const f of files) if (!PXE_REL.test(f.rel) || f.rel.includes('..')) throw new Error(`not a PXE file path: ${f.rel}`);
  const keep = files.map((f) => f.rel).join(' ');
  return [
    'set -eu',
    `D=${PXE_DIR}`,
    'put() { mkdir -p "$D/${1%/*}"; t="$D/${1%/*}/.pvmlab.$$.tmp"; printf %s "$2" | base64 -d >"$t"; chmod 0644 "$t"',
    // A target that reported its install had its boot-from-disk file put in place by the stack (installs.sh) while the
    // host may not have read the report yet: a file rendered for that same install (it names the install id) must
    // not put the installer back. A re-armed install has a new id, and replaces it.
    `  case "$1" in http/ipxe/*|tftp/grub/*) id=$(sed -n '1,2s/^# ${LOCAL_BOOT_MARK} \\([0-9A-Za-z_-]\\{1,64\\}\\)$/\\1/p' "$D/$1" 2>/dev/null | head -n 1)`,
    `    if [ -n "$id" ] && ! grep -q '^# ${LOCAL_BOOT_MARK}' "$t" && grep -qF "$id" "$t"; then rm -f "$t"; return 0; fi ;; esac`,
    '  mv -f "$t" "$D/$1"; }',
    ...files.map((f) => `put ${f.rel} ${Buffer.from(f.content).toString('base64')}`),
    `KEEP=" ${keep} "`,
    'for f in "$D"/http/ipxe/??:??:??:??:??:?? "$D"/http/ipxe/??:??:??:??:??:??.disk "$D"/tftp/grub/grub.cfg-01-* "$D"/http/config/*/*; do',
    '  [ -e "$f" ] || continue',
    '  r=${f#"$D"/}',
    '  case "$KEEP" in *" $r "*) ;; *) rm -f "$f" ;; esac',
    'done',
    'rmdir "$D"/http/config/* 2>/dev/null || true',
    `docker kill -s HUP ${CONTAINER} >/dev/null`,
    '',
  ].join('\n');
}

export interface ContainerState { exists: boolean; running: boolean; status: string; health: string | null; image: string | null; startedAt: string | null }

export class Stack {
  constructor(private remote: Remote, private cfg: LabConfig) {}

  /** Copy the stack source in over SSH (tar stream), replacing the old copy atomically. */
  async syncSource(): Promise<void> {
    const tar = execa('tar', ['-C', STACK_SRC, '-cf', '-', ...stackFiles()], { encoding: 'buffer' });
    const tmp = `${STACK_DIR}.new`;
    await this.remote.run(['sh', '-c', `rm -rf ${tmp} && mkdir -p ${tmp} && tar -x -C ${tmp} && rm -rf ${STACK_DIR} && mv ${tmp} ${STACK_DIR}`],
      { sudo: true, input: tar.stdout!, timeoutMs: 120_000 });
    await tar;
  }

  async imageHash(): Promise<string | null> {
    const r = await this.remote.code(['docker', 'image', 'inspect', '-f', '{{ index .Config.Labels "pvmlab.stack-hash" }}', IMAGE], { sudo: true });
    return r.code === 0 ? r.stdout.trim() : null;
  }

  async baseImage(): Promise<string> {
    const r = await this.remote.code(['docker', 'image', 'inspect', OFFLINE_BASE], { sudo: true });
    return r.code === 0 ? OFFLINE_BASE : 'debian:bookworm-slim';
  }

  /** Build the image if its source changed; returns whether it built. */
  async build(log: (l: string) => void, signal?: AbortSignal): Promise<boolean> {
    const hash = stackHash();
    if ((await this.imageHash()) === hash) return false;
    await this.syncSource();
    const base = await this.baseImage();
    log(`docker build (base ${base})`);
    const { proc, done } = this.remote.spawn(planDockerBuild(base, hash), { sudo: true, timeoutMs: 30 * 60_000, signal });
    for (const s of [proc.stdout, proc.stderr]) {
      const lines = lineSplitter(log); // whole characters and whole lines, however the chunks fall
      s?.on('data', (d: Buffer) => lines.write(d));
      s?.on('end', () => lines.end());
    }
    await done;
    return true;
  }

  /** `docker load` a user-supplied image tar streamed from the host (the seed's `vm docker start <vm> <tar>`). */
  async load(tarPath: string): Promise<string> {
    const out = await this.remote.run(['docker', 'load'], { sudo: true, input: fs.createReadStream(tarPath), timeoutMs: 30 * 60_000 });
    const m = /Loaded image(?: ID)?: (\S+)/.exec(out);
    if (!m) throw new Error(`docker load printed no image name: ${out.trim().slice(-200)}`);
    return m[1];
  }

  async state(): Promise<ContainerState> {
    const r = await this.remote.code(['docker', 'inspect', '-f', '{{.State.Status}}|{{.State.Running}}|{{if .State.Health}}{{.State.Health.Status}}{{end}}|{{.Config.Image}}|{{.State.StartedAt}}', CONTAINER], { sudo: true });
    if (r.code !== 0) return { exists: false, running: false, status: 'absent', health: null, image: null, startedAt: null };
    const [status, running, health, image, startedAt] = r.stdout.trim().split('|');
    return { exists: true, running: running === 'true', status, health: health || null, image, startedAt };
  }

  /** Run the container (recreated when its image changed), then wait until dnsmasq and nginx answer. */
  async up(image = IMAGE, timeoutMs = 120_000): Promise<void> {
    const st = await this.state();
    const imageId = (await this.remote.run(['docker', 'image', 'inspect', '-f', '{{.Id}}', image], { sudo: true })).trim();
    const current = st.exists ? (await this.remote.code(['docker', 'inspect', '-f', '{{.Image}}', CONTAINER], { sudo: true })).stdout.trim() : '';
    if (st.exists && current !== imageId) await this.remote.run(['docker', 'rm', '-f', CONTAINER], { sudo: true });
    if (!st.exists || current !== imageId) await this.remote.run(planDockerRun(this.cfg, image), { sudo: true });
    else if (!st.running) await this.remote.run(['docker', 'start', CONTAINER], { sudo: true });
    await this.waitHealthy(timeoutMs);
  }

  async waitHealthy(timeoutMs: number): Promise<void> {
    const end = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < end) {
      const r = await this.remote.code(['curl', '-fsS', '--max-time', '3', `http://127.0.0.1/health`]);
      if (r.code === 0) return;
      last = (r.stderr || r.stdout).trim();
      await new Promise((res) => setTimeout(res, 1000));
    }
    const logs = await this.logs(20).catch(() => '');
    throw new Error(`the pxeboot container did not become healthy within ${timeoutMs / 1000} s (${last}); last container log lines:\n${logs}`);
  }

  async stop(): Promise<void> { await this.remote.run(['docker', 'stop', CONTAINER], { sudo: true, timeoutMs: 60_000 }); }
  async start(): Promise<void> { await this.remote.run(['docker', 'start', CONTAINER], { sudo: true }); await this.waitHealthy(60_000); }
  async restart(): Promise<void> { await this.remote.run(['docker', 'restart', CONTAINER], { sudo: true, timeoutMs: 90_000 }); await this.waitHealthy(60_000); }
  async logs(tail = 200): Promise<string> {
    // `docker logs` replays the container's stderr on its own stderr: both are the log, unless it failed.
    const r = await this.remote.code(['docker', 'logs', '--tail', String(tail), CONTAINER], { sudo: true });
    if (r.code !== 0) throw new RemoteError(`docker logs ${CONTAINER} failed (exit ${r.code}): ${r.stderr.trim().split('\n').slice(-3).join(' ')}`, r.code, r.stderr);
    return (r.stdout + r.stderr).trim();
  }
  /** dnsmasq's DHCP lines (log-dhcp, `dnsmasq-dhcp[pid]: <xid> …`) from the container's log, the last `lines` of them:
   * what bootpath.ts reads. Filtered on the provisioner, so only those lines cross SSH. */
  async dhcpLog(lines = 20_000): Promise<string> {
    const cmd = `docker logs ${CONTAINER} 2>&1 | grep -F 'dnsmasq-dhcp[' | tail -n ${Math.max(1, Math.floor(lines))}`;
    const r = await this.remote.code(['sh', '-c', cmd], { sudo: true, timeoutMs: 60_000 });
    if (r.code !== 0) throw new RemoteError(`reading dnsmasq's log failed (exit ${r.code}): ${r.stderr.trim().split('\n').slice(-3).join(' ')}`, r.code, r.stderr);
    return r.stdout;
  }
  async containers(): Promise<{ name: string; image: string; status: string }[]> {
    const out = await this.remote.run(['docker', 'ps', '-a', '--format', '{{.Names}}|{{.Image}}|{{.Status}}'], { sudo: true });
    return out.split('\n').filter(Boolean).map((l) => { const [name, image, status] = l.split('|'); return { name, image, status }; });
  }

  /** Write a file under the PXE dir (atomically on the provisioner side). */
  /** Write a small file: published only if every byte arrived (the same script as uploads, no margin). */
  async writePxeFile(rel: string, content: string): Promise<void> {
    await this.remote.run(uploadArgv(`${PXE_DIR}/${rel}`, Buffer.byteLength(content), null, 0), { sudo: true, input: content, timeoutMs: 120_000 });
  }

  /** Stream a file in; the provisioner publishes it only if it is complete (and has free space for it). */
  async uploadPxeFile(rel: string, body: NodeJS.ReadableStream, o: { size: number; sha256: string | null; signal?: AbortSignal }): Promise<void> {
    try {
      await this.remote.run(uploadArgv(`${PXE_DIR}/${rel}`, o.size, o.sha256), { sudo: true, input: body, signal: o.signal, timeoutMs: 6 * 3600_000 });
    } catch (e) {
      const code = (e as RemoteError).exitCode;
      if (code === 3) throw new ConflictError(`${UPLOAD_EXIT[3]}: ${(e as RemoteError).stderr.trim().split('\n').pop()}; remove artifacts or give the provisioner a bigger disk`);
      if (code === 5) throw new BadRequestError('sha256', UPLOAD_EXIT[5]);
      if (code === 4) throw new BadRequestError('file', UPLOAD_EXIT[4]);
      throw e;
    }
  }

  async removePxeFile(rel: string): Promise<void> {
    await this.remote.run(['rm', '-f', `${PXE_DIR}/${rel}`], { sudo: true });
  }

  async readPxeFile(rel: string, timeoutMs = 60_000): Promise<string> {
    const r = await this.remote.code(['cat', `${PXE_DIR}/${rel}`], { sudo: true, timeoutMs });
    return r.code === 0 ? r.stdout : '';
  }

  /** Publish the rendered PXE files (one SSH round trip) and make dnsmasq re-read them (no container restart). */
  async publish(files: PxeFile[]): Promise<void> {
    await this.remote.run(['sh', '-s'], { sudo: true, input: planPxePublish(files), timeoutMs: 120_000 });
  }
}
