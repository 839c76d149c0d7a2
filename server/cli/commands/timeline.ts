// `pvmlab vm timeline <vm> [--boot N] [--events] [--json]`: the boot flight recorder on the command line — one boot's
// stages on one time axis (power-on = 0), where it stopped and why.
import { parseCommand, UsageError } from '../args.ts';
import { formatTable } from '../format.ts';
import type { Command } from '../../cli.ts';
import type { Timeline } from '../../lab/lab.ts';
import { openLab } from '../common.ts';

const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** The timeline as text: a header, the stages as a table, the verdict, the clock (and the raw events with `events`). Pure. */
export function formatTimeline(t: Timeline, events = false): string {
  const head = `${t.vm} (${t.mac}${t.ip ? ` ${t.ip}` : ''}) · boot ${t.boot + 1} of ${t.boots} · ${t.bootKind} ${t.poweredOnAt}${t.path ? ` · path ${t.path}` : ''}`;
  const mark = { done: ' ', failed: '✗', running: '…' } as const;
  const rows = t.stages.map((s) => [`${mark[s.status]} ${s.label}`, sec(s.start), sec(s.end), sec(s.end - s.start), s.detail.length > 90 ? `${s.detail.slice(0, 89)}…` : s.detail]);
  const table = rows.length ? formatTable(['STAGE', 'START', 'END', 'TOOK', 'DETAIL'], rows) : '(no stages: nothing seen since power-on)';
  const d = t.diagnosis;
  const end = t.stages.reduce((m, s) => Math.max(m, s.end), 0);
  const verdict = d.ok ? `✓ ${d.cause} in ${sec(end)}` : d.inProgress ? `… ${d.cause}` : `✗ stopped at ${d.stage}: ${d.cause}${d.hint ? `\n  ${d.hint}` : ''}`;
  const c = t.clock;
  const clock = `clock: ${c.provisionerOffsetMs === null ? 'provisioner not read' : `provisioner ${c.provisionerOffsetMs >= 0 ? '+' : ''}${c.provisionerOffsetMs} ms ± ${c.uncertaintyMs} ms vs the host`}; console ${c.consoleTimed ? 'timed' : 'not timed'}`;
  const out = [head, table, verdict, clock, ...c.notes.map((n) => `note: ${n}`)];
  if (events) out.push('', formatTable(['T', 'SOURCE', 'EVENT', 'DETAIL'], t.events.map((e) => [sec(e.t), e.source, `${e.bad ? '✗ ' : ''}${e.label}`, e.detail.slice(0, 100)])));
  return out.join('\n');
}

export const timelineCommand: Command = {
  usage: 'pvmlab vm timeline <vm> [--boot N] [--events] [--json]',
  summary: 'the boot flight recorder: a boot\'s stages (firmware, DHCP, TFTP/HTTP fetches, kernel, marker) on one time axis, and where it stopped and why (--boot: 1 = first, -1 = last; --events: every DHCP/TFTP/HTTP/console event)',
  async run(argv) {
    const { values, positionals } = parseCommand(argv, { boot: { type: 'string' }, events: { type: 'boolean' }, json: { type: 'boolean' } }, { min: 1, max: 1, usage: this.usage });
    let boot: number | undefined;
    if (values.boot !== undefined) {
      const n = Number(values.boot);
      if (!Number.isInteger(n) || n === 0) throw new UsageError(`--boot ${values.boot}: give a boot number, 1 for the first boot in the console log, -1 for the last`);
      boot = n > 0 ? n - 1 : n;
    }
    const lab = await openLab();
    const t = await lab.vmTimeline(positionals[0], { boot });
    console.log(values.json ? JSON.stringify(t, null, 2) : formatTimeline(t, !!values.events));
    return 0;
  },
};
