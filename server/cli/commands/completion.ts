// `pvmlab completion bash|zsh`: shell completion for verbs, flags, VM names and artifact names. The
// scripts call `pvmlab __complete <words…>` (the last word is the one being typed), which answers from
// the command table itself — one source for help and completion.
import type { Command } from '../../cli.ts';
import { UsageError } from '../args.ts';
import { CATALOGUE_NAMES, Lab, LabHome } from '../../lab/lab.ts';

export interface CompletionFacts { vms: string[]; artifacts: () => Promise<string[]> }

/** The first argument of a verb names a VM when its usage says so (`vm start <name>`, `pxe profile <target|mac>`). */
const VM_ARG = /^<(name|provisioner|target\|mac)>$/;

/** Flags named in a usage line ("--wait", "--image", …). Pure. */
export function flagsOf(usage: string): string[] {
  return [...new Set(usage.match(/--[a-z][a-z-]*/g) ?? [])];
}

/** The values a flag takes, from its usage (`--image auto|offline|ubuntu-24.04|PATH` → auto, offline, ubuntu-24.04; placeholders in capitals are not values; `--catalogue NAME` → the boot catalogue). Pure. */
export function flagValuesOf(usage: string, flag: string): string[] {
  if (flag === '--catalogue') return [...CATALOGUE_NAMES];
  const m = new RegExp(`${flag} ([A-Za-z0-9._|-]+)`).exec(usage);
  return m ? m[1].split('|').filter((v) => !/^[A-Z]+$/.test(v)) : [];
}

/** Keywords a verb takes before its arguments (`pxe artifacts add|rm|ls`), from its usage. Pure. */
export function keywordsOf(usage: string): string[] {
  return [...usage.matchAll(/(?:\| |\[)(ls|set|rm|add)\b/g)].map((m) => m[1]);
}

/** Candidates for the last word (the one being typed), given the words before it. */
export async function complete(words: string[], commands: Record<string, Command>, facts: CompletionFacts): Promise<string[]> {
  const typed = words.at(-1) ?? '';
  const before = words.slice(0, -1);
  const pick = (xs: string[]) => [...new Set(xs)].filter((x) => x.startsWith(typed)).sort();
  let table = commands;
  let cmd: Command | undefined;
  let used = 0;
  while (used < before.length) {
    const next = table[before[used]];
    if (!next) return [];
    cmd = next;
    used++;
    if (!next.subcommands) break;
    table = next.subcommands;
  }
  if (!cmd || cmd.subcommands) return pick(Object.keys(table).filter((k) => !k.startsWith('_')));
  if (typed.startsWith('-')) return pick(flagsOf(cmd.usage));
  const prev = before.at(-1) ?? '';
  if (prev.startsWith('--') && flagsOf(cmd.usage).includes(prev)) { const v = flagValuesOf(cmd.usage, prev); if (v.length) return pick(v); }
  const args = before.slice(used).filter((w) => !w.startsWith('-'));
  const firstArg = cmd.usage.split(' ').find((w) => w.startsWith('<')) ?? '';
  if (args.length === 0) return pick([...keywordsOf(cmd.usage), ...(VM_ARG.test(firstArg) ? facts.vms : [])]);
  if (args.length === 1 && args[0] === 'rm') return pick(/artifacts/.test(cmd.usage) ? await facts.artifacts() : facts.vms);
  return [];
}

export const BASH = `# pvmlab bash completion: source <(pvmlab completion bash)
_pvmlab() {
  local IFS=$'\\n'
  COMPREPLY=( $(pvmlab __complete "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) )
}
complete -o default -F _pvmlab pvmlab
`;

export const ZSH = `#compdef pvmlab
# pvmlab zsh completion: source <(pvmlab completion zsh)
_pvmlab() {
  local -a c
  c=("\${(@f)$(pvmlab __complete "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  compadd -a c
}
compdef _pvmlab pvmlab
`;

export function completionCommands(commands: Record<string, Command>): Record<string, Command> {
  return {
    completion: {
      usage: 'pvmlab completion bash|zsh',
      summary: 'print the shell completion script (source <(pvmlab completion bash))',
      async run(argv) {
        if (argv.length !== 1 || (argv[0] !== 'bash' && argv[0] !== 'zsh')) throw new UsageError('usage: pvmlab completion bash|zsh');
        process.stdout.write(argv[0] === 'bash' ? BASH : ZSH);
        return 0;
      },
    },
    __complete: {
      usage: 'pvmlab __complete <words…>',
      summary: '(used by the completion scripts)',
      async run(argv) {
        const lab = new Lab(new LabHome());
        let vms: string[] = [];
        try { vms = lab.listVmsNow().map((v) => v.name); } catch { /* no lab home yet */ }
        const artifacts = async () => { try { return (await lab.artifacts()).map((a) => a.name); } catch { return []; } };
        const out = await complete(argv.length ? argv : [''], commands, { vms, artifacts });
        if (out.length) console.log(out.join('\n'));
        return 0;
      },
    },
  };
}
