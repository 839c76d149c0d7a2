// `pvmlab reset` and `pvmlab clean`: the whole lab back to its ready state (a ✓ line per stage as it ends, back
// when the targets answer SSH, like `pvmlab up`), and the whole lab removed (saying what was removed, what was
// emptied and made again, and what was left alone).
import fs from 'node:fs';
import path from 'node:path';
import { parseCommand } from '../args.ts';
import type { Command } from '../../cli.ts';
import { Lab } from '../../lab/services.ts';
import { resetLab, type ResetResult } from '../../lab/up/reset.ts';
import { formatDuration, stagePrinter, type StagePrinter } from '../stages.ts';

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

export const labCommands: Record<string, Command> = {
  reset: {
    usage: 'pvmlab reset',
    summary: 'the lab back to its ready state: the provisioner resumes its ready snapshot, running targets are re-provisioned and answer SSH again',
    async run(argv) {
      parseCommand(argv, {}, { min: 0, max: 0, usage: this.usage });
      const lab = await Lab.open();
      process.stderr.write(`pvmlab reset: ${lab.home.root}\n`);
      let printer: StagePrinter | null = null;
      try {
        const r = await lab.jobs.run({ kind: 'reset', title: 'Lab reset' }, (job) => { printer = stagePrinter(job); return resetLab(lab, printer.handle); });
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
