// What every CLI command file shares: opening the lab with job progress on stderr, zod errors as flag
// lines, and command groups (`pvmlab vm …`) with help at every level.
import { ZodError } from 'zod';
import { HelpRequest, isHelpFlag, UsageError } from './args.ts';
import { formatBytes } from './format.ts';
import type { Command } from '../cli.ts';
import { Lab, type JobView } from '../lab/lab.ts';

/** The lab, with each job's progress printed to stderr as one line per change. */
export async function openLab(): Promise<Lab> {
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
  // The input's field names are the flags' (diskSize ↔ --disk-size): name the flag the user typed, in its own words.
  const flag = (f: string) => f.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  if (e instanceof ZodError) {
    return e.issues.map((i) => {
      const field = i.path.map(String).join('.') || 'input';
      return `--${flag(field)}: ${i.message.startsWith(`${field}: `) ? i.message.slice(field.length + 2) : i.message}`;
    }).join('; ');
  }
  return (e as Error).message;
}

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

