// `pvmlab vm …`, `pvmlab clean`, `pvmlab network …`: the seed's command table over the same core as the panel.
import fs from 'node:fs';
import { execa } from 'execa';
import { ZodError } from 'zod';
import { HelpRequest, isHelpFlag, parseCommand, UsageError } from './args.ts';
import { formatTable } from './format.ts';
import type { Command } from '../cli.ts';
import { Lab, readyTitle, type JobView } from '../lab/lab.ts';
import { formatBytes } from './format.ts';
import { formatDuration, stagePrinter } from './stages.ts';

async function openLab(): Promise<Lab> {
  const lab = await Lab.open();
  lab.bus.on('job', (e) => printJob(lab.jobs.get(e.id)));
  return lab;
}

let lastLine = '';
function printJob(j: JobView | null): void {
  if (!j) return;
  const p = j.progress;
  const pct = p?.total ? ` ${((p.done / p.total) * 100).toFixed(0)}%` : '';
  const amount = p ? (p.unit === 'bytes' ? ` ${formatBytes(p.done)}${p.total ? `/${formatBytes(p.total)}` : ''}` : ` ${p.done}${p.total ? `/${p.total}` : ''}`) : '';
  const rate = p?.rate ? ` ${formatBytes(p.rate)}/s` : '';
  const eta = p?.etaSeconds ? ` eta ${Math.round(p.etaSeconds)}s` : '';
  const line = `${j.title}: ${j.state === 'running' ? j.stage : j.state}${pct}${amount}${rate}${eta}`;
  if (line !== lastLine) { process.stderr.write(line + '\n'); lastLine = line; }
}

/** Zod errors as "field: message" lines for the terminal. */
export function describeError(e: unknown): string {
  if (e instanceof ZodError) return e.issues.map((i) => `--${i.path.map(String).join('.') || 'input'}: ${i.message}`).join('; ');
  return (e as Error).message;
}

const createOpts = {
  role: { type: 'string' }, arch: { type: 'string' }, boot: { type: 'string' }, image: { type: 'string' },
  kernel: { type: 'string' }, initrd: { type: 'string' }, append: { type: 'string' }, cpus: { type: 'string' },
  memory: { type: 'string' }, 'disk-size': { type: 'string' }, mac: { type: 'string' }, ip: { type: 'string' },
  'ssh-user': { type: 'string' }, accel: { type: 'string' }, json: { type: 'boolean' },
} as const;

const dockerCommands: Record<string, Command> = {
  start: {
    usage: 'pvmlab vm docker start <provisioner> [image.tar]',
    summary: 'build (or load from a tar) and run the pxeboot container, staged',
    async run(argv) {
      const { positionals } = parseCommand(argv, {}, { min: 1, max: 2, usage: this.usage });
      const lab = await openLab();
      if (lab.provisionerName() !== positionals[0]) throw new UsageError(`'${positionals[0]}' is not the lab's provisioner`);
      await lab.jobs.run({ kind: 'provisioner', title: 'pxeboot stack', vm: positionals[0] }, (job) => lab.provisionerReady(job, { imageTar: positionals[1] }));
      console.log('pxeboot container healthy');
      return 0;
    },
  },
  stop: {
    usage: 'pvmlab vm docker stop <provisioner>',
    summary: 'stop the pxeboot container',
    async run(argv) {
      parseCommand(argv, {}, { min: 1, max: 1, usage: this.usage });
      const lab = await openLab();
      await lab.docker('stop');
      console.log('pxeboot container stopped');
      return 0;
    },
  },
  status: {
    usage: 'pvmlab vm docker status <provisioner>',
    summary: 'containers in the provisioner and their state',
    async run(argv) {
      parseCommand(argv, {}, { min: 1, max: 1, usage: this.usage });
      const lab = await openLab();
      const list = (await lab.dockerStatus()).containers;
      console.log(list.length ? formatTable(['NAME', 'IMAGE', 'STATUS'], list.map((c) => [c.name, c.image, c.status])) : 'no containers');
      return 0;
    },
  },
};

const vmCommands: Record<string, Command> = {
  create: {
    usage: 'pvmlab vm create <name> [--role provisioner|target] [--arch aarch64|x86_64] [--boot disk|pxe|kernel] [--image NAME|PATH] [--kernel PATH --initrd PATH --append ARGS] [--cpus N --memory 1G --disk-size 10G] [--mac MAC] [--ip IP] [--accel auto|kvm|hvf|tcg]',
    summary: 'create a VM (its disk, seed ISO and record)',
    async run(argv) {
      const { values, positionals } = parseCommand(argv, createOpts, { min: 1, max: 1, usage: this.usage });
      const lab = await openLab();
      const input: Record<string, unknown> = { name: positionals[0] };
      for (const [k, v] of Object.entries(values)) {
        if (k === 'json' || v === undefined) continue;
        input[k.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase())] = v;
      }
      try {
        const vm = await lab.createVm(input);
        console.log(values.json ? JSON.stringify(vm, null, 2) : [`created ${vm.role} '${vm.name}' (${vm.arch}, ${vm.boot} boot, mac ${vm.mac}${vm.privateIp ? `, ip ${vm.privateIp}` : ''})`, ...vm.notes,
          ...(vm.boot === 'pxe' && !vm.notes.some((x) => /profile/.test(x)) ? [`no boot profile yet: it boots nothing until it gets one (pvmlab pxe profile ${vm.name} --live, or --kernel …)`] : [])].join('\n'));
        return 0;
      } catch (e) { throw new Error(describeError(e)); }
    },
  },
  start: {
    usage: 'pvmlab vm start <name> [--wait] [--cold]',
    summary: 'start a VM; returns when QEMU runs (--wait: follow the provisioner\'s readiness, a line per stage as it ends; --cold: the provisioner boots instead of resuming its ready snapshot)',
    async run(argv) {
      const { values, positionals } = parseCommand(argv, { wait: { type: 'boolean' }, cold: { type: 'boolean' } }, { min: 1, max: 1, usage: this.usage });
      const lab = await Lab.open();
      const name = positionals[0];
      // --wait on a provisioner that already runs follows its readiness instead of failing.
      const current = await lab.getVm(name);
      const follow = !!values.wait && current.role === 'provisioner' && current.status === 'running';
      const { vm, warm } = follow ? { vm: current, warm: false } : await lab.powerOn(name, { cold: !!values.cold });
      if (!follow) {
        const status = await lab.qemuStatus(vm.name);
        const accel = vm.runningAccel ? `, ${vm.runningAccel.accel} -cpu ${vm.runningAccel.cpu}` : '';
        console.log(`${warm ? 'resumed' : 'started'} '${vm.name}' (pid ${vm.pid}, QEMU ${status ?? 'unknown'}${accel}${warm ? ', from its ready snapshot' : ''})${vm.sshCommand ? `\nssh: ${vm.sshCommand}` : ''}`);
      }
      if (vm.role !== 'provisioner') return 0;
      // A warm resume is followed either way (seconds): the clock is set and the PXE files re-published before it returns.
      if (!values.wait && !warm) {
        console.log(`the provisioner boots now; pvmlab vm start ${name} --wait (or pvmlab up) follows it to a healthy pxeboot stack, a line per stage`);
        return 0;
      }
      const printer = await lab.jobs.run({ kind: 'provisioner', title: readyTitle(name, warm), vm: name }, async (job) => {
        const p = stagePrinter(job);
        try { await lab.provisionerReady(p.handle, { warm }); } catch (e) { p.finish(false); throw e; }
        return p;
      });
      console.log(`'${name}' ready in ${formatDuration(printer.finish(true))}: pxeboot stack healthy`);
      return 0;
    },
  },
  stop: {
    usage: 'pvmlab vm stop <name> [--force]',
    summary: 'stop a VM: ACPI power-off, then quit, then signals (--force skips the power-off)',
    async run(argv) {
      const { values, positionals } = parseCommand(argv, { force: { type: 'boolean' } }, { min: 1, max: 1, usage: this.usage });
      const lab = await openLab();
      const { step } = await lab.stopVm(positionals[0], { force: !!values.force });
      console.log(step ? `stopped '${positionals[0]}' (${step})` : `'${positionals[0]}' was not running`);
      return 0;
    },
  },
  list: {
    usage: 'pvmlab vm list [--json]',
    summary: 'list the VMs with their status',
    async run(argv) {
      const { values } = parseCommand(argv, { json: { type: 'boolean' } }, { min: 0, max: 0, usage: this.usage });
      const lab = await Lab.open();
      const vms = await lab.listVms();
      const broken = lab.brokenRecords();
      if (values.json) { console.log(JSON.stringify(broken.length ? { vms, broken } : vms, null, 2)); return 0; }
      const brokenLines = broken.map((b) => `broken: ${b.file} — ${b.reason}; remove it with: ${b.fix}`);
      if (!vms.length) { console.log([...brokenLines, 'no VMs yet: pvmlab vm create <name> --role provisioner …'].join('\n')); return 0; }
      console.log(formatTable(['NAME', 'ROLE', 'ARCH', 'PRIVATE-IP', 'SSH', 'MAC', 'STATUS'],
        vms.map((v) => [v.name, v.role, v.arch, v.privateIp ?? '-', v.sshPort ? `127.0.0.1:${v.sshPort}` : '-', v.mac, v.status])));
      for (const l of brokenLines) console.log(l);
      return 0;
    },
  },
  logs: {
    usage: 'pvmlab vm logs <name> [-f]',
    summary: 'print the serial console log (-f: follow)',
    async run(argv) {
      const { values, positionals } = parseCommand(argv, { follow: { type: 'boolean', short: 'f' } }, { min: 1, max: 1, usage: this.usage });
      const lab = await Lab.open();
      const name = positionals[0];
      let off = 0;
      // The log's bytes as they are (a character split across two reads arrives whole on stdout).
      const drain = () => {
        for (;;) {
          const r = lab.consoleLogBytes(name, off);
          if (r.size < off) { off = 0; continue; } // truncated or recreated: start again
          if (r.data.length) process.stdout.write(r.data);
          if (r.offset === off) break;
          off = r.offset;
        }
      };
      drain();
      if (!values.follow) return 0;
      fs.watch(lab.home.dir('logs'), (_e, f) => { if (f === `${name}.log`) drain(); });
      await new Promise(() => {});
      return 0;
    },
  },
  docker: group('vm docker', dockerCommands),
  snapshot: {
    usage: 'pvmlab vm snapshot <vm> [take|ls|revert|rm] [NAME] [--json]',
    summary: 'snapshots of a VM: with RAM when it runs (revert resumes it), disk-only when stopped (revert: the disk; it boots anew)',
    async run(argv) {
      const { values, positionals } = parseCommand(argv, { json: { type: 'boolean' } }, { min: 1, max: 3, usage: this.usage });
      const [vm, verb = 'ls', name] = positionals;
      const lab = await openLab();
      const need = () => { if (!name) throw new UsageError(`snapshot ${verb} needs a NAME (usage: ${this.usage})`); return name; };
      try {
        if (verb === 'ls') {
          const list = await lab.listSnapshots(vm);
          if (values.json) console.log(JSON.stringify(list, null, 2));
          else console.log(list.length ? formatTable(['NAME', 'TAKEN', 'KIND', 'RAM'], list.map((s) => [s.name, s.takenAt, s.kind, s.vmStateBytes ? formatBytes(s.vmStateBytes) : '-']))
            : `'${vm}' has no snapshots: pvmlab vm snapshot ${vm} take NAME`);
        } else if (verb === 'take') {
          const t0 = Date.now();
          const s = await lab.takeSnapshot(vm, need());
          console.log(`snapshot '${s.name}' of '${vm}' taken in ${((Date.now() - t0) / 1000).toFixed(1)} s (${s.kind === 'running' ? `with RAM, ${formatBytes(s.vmStateBytes)}` : 'disk-only: keeps the disk, not RAM or running processes'})`);
        } else if (verb === 'revert') {
          const t0 = Date.now();
          const v = await lab.revertSnapshot(vm, need());
          console.log(`'${vm}' reverted to '${name}' in ${((Date.now() - t0) / 1000).toFixed(1)} s (${v.status})`);
        } else if (verb === 'rm') {
          await lab.removeSnapshot(vm, need());
          console.log(`snapshot '${name}' of '${vm}' removed`);
        } else {
          throw new UsageError(`unknown snapshot action '${verb}': use take, ls, revert or rm`);
        }
      } catch (e) { if (e instanceof UsageError) throw e; throw new Error(describeError(e)); }
      return 0;
    },
  },
  reprovision: {
    usage: 'pvmlab vm reprovision <name>',
    summary: 'power a target off, give it a fresh disk (same MAC, IP, reservation and profile) and boot it again',
    async run(argv) {
      const { positionals } = parseCommand(argv, {}, { min: 1, max: 1, usage: this.usage });
      const lab = await openLab();
      const vm = await lab.reprovisionVm(positionals[0]);
      console.log(`'${vm.name}' re-provisioned: fresh disk, booting again (follow it: pvmlab vm logs ${vm.name} -f)`);
      return 0;
    },
  },
  shell: {
    usage: 'pvmlab vm shell <name> [-- command …]',
    summary: 'open a shell on a VM (targets through the provisioner), or run a command there',
    async run(argv) {
      const dash = argv.indexOf('--');
      const own = dash >= 0 ? argv.slice(0, dash) : argv;
      const { positionals } = parseCommand(own, {}, { min: 1, max: 1, usage: this.usage });
      const lab = await Lab.open();
      await lab.listVms(); // current DHCP leases, for targets without a reservation
      const ssh = lab.sshArgv(positionals[0], dash >= 0 ? argv.slice(dash + 1) : undefined);
      const r = await execa(ssh[0], ssh.slice(1), { stdio: 'inherit', reject: false });
      return r.exitCode ?? 1;
    },
  },
  clean: {
    usage: 'pvmlab vm clean <name>',
    summary: 'stop a VM and remove all its files',
    async run(argv) {
      const { positionals } = parseCommand(argv, {}, { min: 1, max: 1, usage: this.usage });
      const lab = await Lab.open();
      await lab.cleanVm(positionals[0]);
      console.log(`removed '${positionals[0]}'`);
      return 0;
    },
  },
};

/** A command with sub-commands (`pvmlab vm …`, `pvmlab pxe …`): help at every level, one error path (main's). */
export function group(name: string, cmds: Record<string, Command>, summary = `${name} commands (pvmlab ${name} help)`): Command {
  return {
    subcommands: cmds,
    usage: `pvmlab ${name} <${Object.keys(cmds).join('|')}> …`,
    summary,
    async run(argv) {
      const [sub, ...rest] = argv;
      if (!sub || isHelpFlag(sub)) {
        console.log(Object.values(cmds).map((c) => `  ${c.usage}\n      ${c.summary}`).join('\n'));
        return sub ? 0 : 2;
      }
      const c = cmds[sub];
      if (!c) throw new UsageError(`unknown command '${name} ${sub}' (try: pvmlab ${name} help)`);
      try {
        return await c.run(rest);
      } catch (e) {
        if (!(e instanceof HelpRequest)) throw e;
        console.log(`usage: ${c.usage}\n${c.summary}`);
        return 0;
      }
    },
  };
}

const networkCommands: Record<string, Command> = Object.fromEntries((['start', 'stop', 'status'] as const).map((a) => [a, {
  usage: `pvmlab network ${a}`,
  summary: `${a} the private network service`,
  async run(argv: string[]) {
    parseCommand(argv, {}, { min: 0, max: 0, usage: `pvmlab network ${a}` });
    const lab = await Lab.open();
    const s = await lab.network()[a]();
    console.log(`${s.backend}: ${s.running ? 'running' : 'not running'} — ${s.detail}${s.hint ? `\nnext: ${s.hint}` : ''}`);
    return a === 'status' && !s.running ? 1 : 0;
  },
} satisfies Command]));

export const labCommands: Record<string, Command> = {
  image: group('image', {
    build: {
      usage: 'pvmlab image build [x86_64|aarch64]',
      summary: 'build the offline provisioner image from Debian packages (cached by content hash)',
      async run(argv) {
        const { positionals } = parseCommand(argv, {}, { min: 0, max: 1, usage: this.usage });
        const arch = positionals[0] ?? 'x86_64';
        if (arch !== 'x86_64' && arch !== 'aarch64') throw new UsageError(`arch must be x86_64 or aarch64, got '${arch}'`);
        const script = new URL('../../scripts/build-provisioner-image.sh', import.meta.url).pathname;
        const r = await execa(script, [arch], { stdout: 'pipe', stderr: 'inherit', reject: false });
        if (r.exitCode !== 0) throw new Error(`image build failed (exit ${r.exitCode}): see the lines above`);
        const dir = String(r.stdout).trim().split('\n').pop();
        const { append } = JSON.parse(fs.readFileSync(`${dir}/manifest.json`, 'utf8')) as { append: string };
        console.log(`image ready: ${dir}\ncreate a provisioner from it: pvmlab vm create prov --role provisioner --boot kernel --image ${dir}/disk.qcow2 --kernel ${dir}/vmlinuz --initrd ${dir}/initrd.img --append '${append.replace(/'/g, `'\\''`)}' --memory 2G --cpus 2`);
        return 0;
      },
    },
  }),
  vm: group('vm', vmCommands),
  network: group('network', networkCommands),
  socket_vmnet: group('socket_vmnet', networkCommands),
  reset: {
    usage: 'pvmlab reset',
    summary: 'the lab back to its ready state: the provisioner resumes its ready snapshot, running targets are re-provisioned',
    async run(argv) {
      parseCommand(argv, {}, { min: 0, max: 0, usage: this.usage });
      const lab = await openLab();
      const t0 = Date.now();
      const r = await lab.resetLab();
      console.log(`lab reset in ${((Date.now() - t0) / 1000).toFixed(1)} s: '${r.provisioner}' from its ready snapshot${r.targets.length ? `, re-provisioned ${r.targets.join(', ')}` : ''}`);
      return 0;
    },
  },
  clean: {
    usage: 'pvmlab clean [--remove-key]',
    summary: 'stop every VM and empty the lab home (the key pair stays unless --remove-key)',
    async run(argv) {
      const { values } = parseCommand(argv, { 'remove-key': { type: 'boolean' } }, { min: 0, max: 0, usage: this.usage });
      const lab = await Lab.open();
      const r = await lab.cleanLab({ removeKey: !!values['remove-key'] });
      for (const e of r.entries) console.log(`removed ${e}`);
      for (const e of r.left) console.log(`left alone ${e} (not pvmlab's)`);
      console.log(`lab cleaned (${r.removed.length} VMs removed)`);
      return 0;
    },
  },
};
