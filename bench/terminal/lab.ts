// One real panel (started as the e2e suite starts it: e2e/global-setup.ts, temp lab home) with one tiny
// test guest (scripts/build-test-guest.sh x86_64; role provisioner, user-mode uplink, dropbear) running.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import globalSetup from '../../e2e/global-setup.ts';
import { readPanel, sessionCookie, trpcCall, type PanelInfo } from '../../e2e/harness.ts';
import { LabHome } from '../../server/lab/home.ts';
import { ROOT, VM, sleep } from './common.ts';

export interface BenchLab {
  panel: PanelInfo;
  cookie: string;
  trpc<T = unknown>(kind: 'query' | 'mutation', proc: string, input: unknown): Promise<T>;
  /** The panel's own ssh argv for the guest plus -tt, as server/sockets/terminal.ts runs it. */
  sshCmd: string[];
  /** The guest's serial port (QEMU's unix socket). */
  serialSock: string;
  /** What WeTTY needs to reach the same guest with the same client config. */
  ssh: { config: string; host: string; user: string; port: number; knownHosts: string; key: string };
  guestPid?: number;
  /** The panel's own jobs for the guest that were cancelled once it was up (its provisioner readiness). */
  cancelledJobs: string[];
  close(): Promise<void>;
}

/**
 * Start the panel and the guest, wait for the guest's READY marker. `panelNodeOptions` (e.g.
 * `--cpu-prof --cpu-prof-dir=DIR`) goes to the panel's node process only.
 */
export async function startLab(o: { panelNodeOptions?: string } = {}): Promise<BenchLab> {
  const saved = process.env.NODE_OPTIONS;
  if (o.panelNodeOptions) process.env.NODE_OPTIONS = `${saved ?? ''} ${o.panelNodeOptions}`.trim();
  let teardown: () => Promise<void>;
  try { teardown = await globalSetup({} as never); } finally { if (saved === undefined) delete process.env.NODE_OPTIONS; else process.env.NODE_OPTIONS = saved; }
  const panel = readPanel();
  const cookie = await sessionCookie(panel);
  const trpc = <T = unknown>(kind: 'query' | 'mutation', proc: string, input: unknown) => trpcCall<T>(panel, cookie, kind, proc, input);
  const close = async () => {
    await trpc('mutation', 'vm.clean', { name: VM }).catch((e: unknown) => console.error(`[bench] clean: ${(e as Error).message}`));
    await teardown();
  };
  try {
    const { stdout } = await promisify(execFile)(path.join(ROOT, 'scripts/build-test-guest.sh'), ['x86_64'], { maxBuffer: 16 << 20 });
    const dir = stdout.trim().split('\n').pop()!;
    const mac = '52:54:00:be:4c:01';
    await trpc('mutation', 'vm.create', {
      name: VM, role: 'provisioner', sshUser: 'root', boot: 'kernel', kernel: path.join(dir, 'vmlinuz'), initrd: path.join(dir, 'initrd.img'),
      memory: '256M', mac, append: `console=ttyS0 pvmlab.hostname=${VM} pvmlab.mac=${mac} pvmlab.uplink=dhcp`,
    });
    await trpc('mutation', 'vm.start', { name: VM });
    const end = Date.now() + 180_000;
    for (;;) {
      if (/PVMLAB-GUEST-READY/.test((await trpc<{ data: string }>('query', 'vm.log', { name: VM, offset: 0, limit: 1 << 20 })).data)) break;
      if (Date.now() > end) throw new Error(`${VM}: no PVMLAB-GUEST-READY in the console log within 180 s`);
      await sleep(500);
    }
    // The guest has the provisioner role (for its SSH port on the host), so the panel starts a readiness job
    // for it that polls the guest over ssh every second (cloud-init, docker: never there on the tiny guest)
    // for up to 15 min — a fork of the panel plus an ssh client, each second, that the old P4 figures
    // counted as the panel's cost per MiB. Cancel it: the terminals are measured on a quiet panel.
    const jobs = await trpc<{ id: string; vm?: string; state: string; kind: string }[]>('query', 'jobs.list', undefined);
    const cancelled = jobs.filter((j) => j.vm === VM && j.state === 'running');
    for (const j of cancelled) await trpc('mutation', 'jobs.cancel', { id: j.id });
    const { argv } = await trpc<{ argv: string[] }>('query', 'vm.sshCommand', { name: VM });
    const sshCmd = [...argv.slice(0, -1), '-tt', argv[argv.length - 1]];
    const home = new LabHome(panel.home);
    const config = argv[argv.indexOf('-F') + 1];
    const block = fs.readFileSync(config, 'utf8').split(/^Host /m).find((b) => b.startsWith(`${VM}\n`)) ?? '';
    const port = Number(/^\s*Port (\d+)/m.exec(block)?.[1]);
    const user = /^\s*User (\S+)/m.exec(block)?.[1] ?? 'root';
    if (!port) throw new Error(`no Port for ${VM} in ${config}`);
    let guestPid: number | undefined;
    try { guestPid = Number(fs.readFileSync(path.join(panel.home, 'pids', `${VM}.pid`), 'utf8').trim()) || undefined; } catch { /* no pid file */ }
    return { panel, cookie, trpc, sshCmd, serialSock: home.vmSerial(VM), guestPid, close, cancelledJobs: cancelled.map((j) => `${j.kind}: ${j.state} → cancelled`),
      ssh: { config, host: VM, user, port, knownHosts: home.knownHosts, key: home.privateKey } };
  } catch (e) {
    await close();
    throw e;
  }
}
