// `pvmlab vm …`: the seed's VM command table over the same core as the panel.
import { execa } from 'execa';
import fs from 'node:fs';
import { parseCommand, } from '../args.ts';
import { formatTable } from '../format.ts';
import type { Command } from '../../cli.ts';
import { Lab, readyTitle } from '../../lab/lab.ts';
import { describeError, group, openLab } from '../common.ts';
import { formatDuration, stagePrinter } from '../stages.ts';
import { dockerCommands } from './docker.ts';
import { snapshotCommand } from './snapshot.ts';
import { timelineCommand } from './timeline.ts';

const createOpts = {
  role: { type: 'string' }, arch: { type: 'string' }, boot: { type: 'string' }, image: { type: 'string' },
  kernel: { type: 'string' }, initrd: { type: 'string' }, append: { type: 'string' }, cpus: { type: 'string' },
  memory: { type: 'string' }, 'disk-size': { type: 'string' }, mac: { type: 'string' }, ip: { type: 'string' },
  'ssh-user': { type: 'string' }, accel: { type: 'string' }, json: { type: 'boolean' },
  firmware: { type: 'string' }, 'secure-boot': { type: 'boolean' }, netboot: { type: 'string' },
} as const;

export const vmCommands: Record<string, Command> = {
  create: {
    usage: 'pvmlab vm create <name> [--role provisioner|target] [--arch aarch64|x86_64] [--boot disk|pxe|kernel] [--image NAME|PATH] [--kernel PATH --initrd PATH --append ARGS] [--cpus N --memory 1G --disk-size 10G] [--mac MAC] [--ip IP] [--accel auto|kvm|hvf|tcg] [--firmware bios|uefi [--secure-boot]] [--netboot pxe|http]',
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
        console.log(values.json ? JSON.stringify(vm, null, 2) : [`created ${vm.role} '${vm.name}' (${vm.arch}${vm.firmware === 'uefi' && vm.arch === 'x86_64' ? `, UEFI${vm.secureBoot ? ' + Secure Boot' : ''}` : ''}, ${vm.boot}${vm.netboot === 'http' ? ' (UEFI HTTP Boot)' : ''} boot, mac ${vm.mac}${vm.privateIp ? `, ip ${vm.privateIp}` : ''})`, ...vm.notes,
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
      if (values.json) {
        // PXE targets: the boot path of their last network boot, from dnsmasq's log (only while the provisioner runs).
        const paths = await lab.bootPaths().catch(() => ({} as Awaited<ReturnType<typeof lab.bootPaths>>));
        const out = vms.map((v) => (v.role === 'target' && v.boot === 'pxe' ? { ...v, bootPath: paths[v.name] ?? null } : v));
        console.log(JSON.stringify(broken.length ? { vms: out, broken } : out, null, 2));
        return 0;
      }
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
  snapshot: snapshotCommand,
  timeline: timelineCommand,
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

