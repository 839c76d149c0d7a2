// `pvmlab image|network|reset|clean`: lab-wide commands. `reset` prints a ✓ line per stage as it ends and returns
// when the targets answer SSH again (like `pvmlab up`); `clean` says what it removed, what it emptied (the home's
// folders are made again) and what it left alone.
import { execa } from 'execa';
import fs from 'node:fs';
import path from 'node:path';
import { parseCommand, UsageError } from '../args.ts';
import type { Command } from '../../cli.ts';
import { Lab, type ResetResult } from '../../lab/lab.ts';
import { formatDuration, stagePrinter, type StagePrinter } from '../stages.ts';
import { group } from '../common.ts';
import { vmCommands } from './vm.ts';

/** The closing line of a reset (pure). */
export function formatReset(r: ResetResult, ms: number): string {
  const t = r.targets.map((x) => `${x.name}${x.ip ? ` ${x.ip}` : ''} ${x.state}`).join(', ');
  return `lab reset in ${formatDuration(ms)}: ${r.provisioner} from its ready snapshot${t ? `, re-provisioned ${t}` : ', no running target to re-provision'}`;
}

/**
 * What `pvmlab clean` did, for people (pure). `entries`: the lab home entries it removed; `exists`: whether each
 * is there again afterwards (the lab home's folders are made again, empty, and a removed key pair is replaced).
 */
export function formatClean(r: { removed: string[]; entries: string[]; left: string[] }, exists: (p: string) => boolean, removeKey: boolean): string[] {
  const lines: string[] = [];
  for (const e of r.entries) {
    if (!exists(e)) lines.push(`removed ${e}`);
    else if (removeKey && path.basename(e) === 'ssh') lines.push(`removed the key pair in ${e}; a new one was made for the next lab`);
    else lines.push(`emptied ${e}`);
  }
  for (const e of r.left) lines.push(`left alone ${e} (not pvmlab's)`);
  lines.push(`lab cleaned (${r.removed.length} VM${r.removed.length === 1 ? '' : 's'} removed${removeKey ? '' : '; the key pair stays: --remove-key removes it'})`);
  return lines;
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
    summary: 'the lab back to its ready state: the provisioner resumes its ready snapshot, running targets are re-provisioned and answer SSH again',
    async run(argv) {
      parseCommand(argv, {}, { min: 0, max: 0, usage: this.usage });
      const lab = await Lab.open();
      process.stderr.write(`pvmlab reset: ${lab.home.root}\n`);
      let printer: StagePrinter | null = null;
      try {
        const r = await lab.resetLab((job) => { printer = stagePrinter(job); return printer.handle; });
        console.log(formatReset(r, printer!.finish(true)));
        return 0;
      } catch (e) {
        (printer as StagePrinter | null)?.finish(false);
        throw e;
      }
    },
  },
  clean: {
    usage: 'pvmlab clean [--remove-key]',
    summary: 'stop every VM and empty the lab home (the key pair stays unless --remove-key)',
    async run(argv) {
      const { values } = parseCommand(argv, { 'remove-key': { type: 'boolean' } }, { min: 0, max: 0, usage: this.usage });
      const lab = await Lab.open();
      const r = await lab.cleanLab({ removeKey: !!values['remove-key'] });
      for (const l of formatClean(r, (p) => fs.existsSync(p), !!values['remove-key'])) console.log(l);
      return 0;
    },
  },
};
