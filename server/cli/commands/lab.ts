// `pvmlab image|network|reset|clean`: lab-wide commands.
import { execa } from 'execa';
import fs from 'node:fs';
import { parseCommand, UsageError } from '../args.ts';
import type { Command } from '../../cli.ts';
import { Lab } from '../../lab/lab.ts';
import { group, openLab } from '../common.ts';
import { vmCommands } from './vm.ts';

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
        const script = new URL('../../../scripts/build-provisioner-image.sh', import.meta.url).pathname;
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
