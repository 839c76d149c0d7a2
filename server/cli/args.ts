// Command-line parsing for `pvmlab`: pure, so argument errors are unit-tested.
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {}

/** `--help` / `-h` anywhere in a command's own arguments: print its usage to stdout and exit 0. */
export class HelpRequest extends Error {
  constructor(readonly usage: string) { super(usage); }
}

export const isHelpFlag = (a: string | undefined) => a === '--help' || a === '-h' || a === 'help';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface Parsed { values: Record<string, string | boolean | undefined>; positionals: string[] }

/** Parse argv for one command; unknown flags and missing values become UsageError with a one-line reason. */
export function parseCommand(argv: string[], options: OptionSpec, positionals: { min: number; max: number; usage: string }): Parsed {
  if (argv.some((a) => a === '--help' || a === '-h')) throw new HelpRequest(positionals.usage);
  let r: ReturnType<typeof parseArgs>;
  try {
    r = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    const msg = (e as Error).message.replace(/\. To specify a positional argument.*$/s, '').split('\n')[0];
    throw new UsageError(`${msg} (usage: ${positionals.usage})`);
  }
  if (r.positionals.length < positionals.min) throw new UsageError(`missing argument (usage: ${positionals.usage})`);
  if (r.positionals.length > positionals.max) throw new UsageError(`unexpected argument '${r.positionals[positionals.max]}' (usage: ${positionals.usage})`);
  return { values: r.values as Parsed['values'], positionals: r.positionals };
}

export function parsePort(v: string | boolean | undefined, env: string | undefined, fallback: number): number {
  const raw = typeof v === 'string' ? v : env;
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new UsageError(`--port must be a number from 1 to 65535, got '${raw}'`);
  const n = Number(raw);
  if (n < 1 || n > 65535) throw new UsageError(`--port must be a number from 1 to 65535, got '${raw}'`);
  return n;
}
