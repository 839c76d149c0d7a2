// `pvmlab up` / `pvmlab down`: from an empty lab home to a provisioner with a healthy pxeboot stack and
// PXE targets that booted the default profile and answer SSH; and back down. Domain: server/lab/up/.
import { parseCommand, UsageError } from '../args.ts';
import type { Command } from '../../cli.ts';
import { Lab, LabFileError, defaultLab, describeAction, downLab, exportLab, labFileJsonSchema, offlineImageCacheDir, parseLabFile, upLab, type DesiredLab, type Plan, type UpResult } from '../../lab/lab.ts';
import { arch as archSchema } from '../../lab/spec.ts';
import { formatDuration, stagePrinter, type StagePrinter } from '../stages.ts';
import fs from 'node:fs';
import path from 'node:path';
import { formatBytes } from '../format.ts';

const err = (l: string) => process.stderr.write(l + '\n');

/** The plan as people read it (stderr), before anything changes. */
export function formatPlan(plan: Plan): string[] {
  const lines = plan.actions.map((a) => `  ${describeAction(a)}`);
  const head = lines.some((l) => !l.startsWith('  ?')) ? 'plan:' : 'nothing to change: the lab matches; checking it answers';
  return [head, ...lines, ...plan.kept.map((k) => `  = ${k}`), ...plan.notes.map((n) => `  ! ${n}`)];
}

/** The closing lines: where things are and what to do next. */
export function formatUpDone(r: UpResult, ms: number, provisioner: string): string {
  const t = r.targets.map((x) => `${x.name}${x.ip ? ` ${x.ip}` : ''} ${x.state}`).join(', ');
  return [
    `${r.changed ? `lab up in ${formatDuration(ms)}` : `lab already up (checked in ${formatDuration(ms)})`}: ${provisioner}${r.image ? ` (${r.image.use === 'offline' ? 'offline image' : r.image.use === 'file' ? 'image file' : 'Ubuntu 24.04 cloud image'})` : ''}${t ? `, ${t}` : ''}`,
    'next:',
    ...next(r.targets[0]?.name, provisioner).map(([c, d]) => `  ${c.padEnd(30)} ${d}`),
  ].join('\n');
}

function next(target: string | undefined, provisioner: string): [string, string][] {
  return [
    ...(target ? [[`pvmlab vm shell ${target}`, 'a shell on the target (through the provisioner)'] as [string, string]] : []),
    [`pvmlab vm shell ${provisioner}`, 'a shell on the provisioner'],
    ['pvmlab vm list', 'the VMs, their IPs and state'],
    ['npm start (= pvmlab serve)', 'the panel on http://127.0.0.1:7780'],
    ['pvmlab down', 'stop the lab (pvmlab up brings it back)'],
  ];
}

function desiredFrom(values: Record<string, string | boolean | undefined>): DesiredLab {
  const a = values.arch === undefined ? undefined : archSchema.safeParse(values.arch);
  if (a && !a.success) throw new UsageError(`--arch must be x86_64 or aarch64, got '${values.arch}'`);
  let targets: number | undefined;
  if (typeof values.targets === 'string') {
    if (!/^\d+$/.test(values.targets) || Number(values.targets) < 0 || Number(values.targets) > 20) throw new UsageError(`--targets must be a number from 0 to 20, got '${values.targets}'`);
    targets = Number(values.targets);
  }
  const image = typeof values.image === 'string' ? values.image : undefined;
  return defaultLab({ arch: a?.data, image, targets });
}

/** Run up/apply on a desired lab, printing the plan, stage ends and the closing lines. */
async function runUp(lab: Lab, desired: DesiredLab, o: { json: boolean; prune?: boolean; dryRun?: boolean }): Promise<number> {
  lab.bus.on('job', (e) => {
    const j = lab.jobs.get(e.id);
    if (j?.kind === 'download' && j.progress?.unit === 'bytes') err(`    download: ${formatBytes(j.progress.done)}${j.progress.total ? ` / ${formatBytes(j.progress.total)}` : ''}`);
  });
  err(`pvmlab up: ${desired.provisioner.name} (${desired.provisioner.arch}, image ${desired.provisioner.image}) + ${desired.targets.map((t) => t.name).join(', ') || 'no targets'} in ${lab.home.root}`);
  let printer: StagePrinter | null = null;
  try {
    const r = await lab.jobs.run({ kind: 'up', title: 'Lab up' }, (job) => {
      // lines people need: which image and why, where the live image is built and why, a catalogue download's progress
      printer = stagePrinter(job, { keep: (l) => l.startsWith('provisioner image:') || l.startsWith('live image (') || /^build-provisioner-image: .*(cached|done|error)/.test(l)
        || /^(downloading ubuntu-|ubuntu-24\.04[.\d]*-live-server-\w+\.iso: \d+|https?:\S+SHA256SUMS cannot be read)/.test(l) });
      return upLab(lab, desired, printer.handle, { prune: o.prune, dryRun: o.dryRun, onPlan: (p) => { printer!.flush(); for (const l of formatPlan(p)) err(l); } });
    });
    const ms = printer!.finish(true);
    if (o.json) console.log(JSON.stringify(r, null, 2));
    else if (o.dryRun) console.log(`dry run: ${r.changed} change(s) planned, nothing done`);
    else console.log(formatUpDone(r, ms, desired.provisioner.name));
    return 0;
  } catch (e) {
    (printer as StagePrinter | null)?.finish(false);
    throw e;
  }
}

/** lab.yaml → the desired lab; every problem is printed as file:line:col: field: what and the fix, then it fails (exit 1) before any change. */
function readLabFile(lab: Lab, file: string): DesiredLab {
  let text: string;
  try { text = fs.readFileSync(file, 'utf8'); } catch (e) { throw new Error(`${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`); }
  const cfg = lab.config().network;
  let desired: DesiredLab;
  try {
    ({ desired } = parseLabFile(text, file, { subnet: cfg.subnet, dhcpRange: [cfg.dhcpStart, cfg.dhcpEnd] }));
  } catch (e) {
    if (!(e instanceof LabFileError)) throw e;
    err(e.message);
    throw new Error(`${file}: ${e.issues.length} problem${e.issues.length > 1 ? 's' : ''} (above); nothing was changed`);
  }
  // artifact paths are relative to the lab file
  for (const a of desired.artifacts ?? []) if (a.path) a.path = path.resolve(path.dirname(path.resolve(file)), a.path);
  return desired;
}

export const upCommands: Record<string, Command> = {
  up: {
    usage: 'pvmlab up [lab.yaml] [--image auto|offline|ubuntu-24.04|PATH] [--arch x86_64|aarch64] [--targets N] [--json]',
    summary: 'start the lab (the default one, or lab.yaml): provisioner + pxeboot stack + PXE targets answering SSH; re-run: converges',
    async run(argv) {
      const { values, positionals } = parseCommand(argv, { image: { type: 'string' }, arch: { type: 'string' }, targets: { type: 'string' }, json: { type: 'boolean' } },
        { min: 0, max: 1, usage: this.usage });
      if (positionals[0] && (values.image || values.arch || values.targets)) throw new UsageError('--image/--arch/--targets change the default lab; with a lab file, change the file');
      const lab = await Lab.open();
      const desired = positionals[0] ? readLabFile(lab, positionals[0]) : desiredFrom(values);
      return runUp(lab, desired, { json: !!values.json });
    },
  },
  apply: {
    usage: 'pvmlab apply <lab.yaml> [--prune] [--dry-run] [--json]',
    summary: 'show the plan for lab.yaml, then converge the lab to it (nothing is removed without --prune)',
    async run(argv) {
      const { values, positionals } = parseCommand(argv, { prune: { type: 'boolean' }, 'dry-run': { type: 'boolean' }, json: { type: 'boolean' } }, { min: 1, max: 1, usage: this.usage });
      const lab = await Lab.open();
      const desired = readLabFile(lab, positionals[0]);
      return runUp(lab, desired, { json: !!values.json, prune: !!values.prune, dryRun: !!values['dry-run'] });
    },
  },
  export: {
    usage: 'pvmlab export [--schema]',
    summary: 'print the lab as a lab.yaml (pvmlab export > lab.yaml; export → clean → up gives it back); --schema: its JSON Schema',
    async run(argv) {
      const { values } = parseCommand(argv, { schema: { type: 'boolean' } }, { min: 0, max: 0, usage: this.usage });
      if (values.schema) { console.log(JSON.stringify(labFileJsonSchema(), null, 2)); return 0; }
      const lab = await Lab.open();
      process.stdout.write(await exportLab(lab, offlineImageCacheDir()));
      return 0;
    },
  },
  down: {
    usage: 'pvmlab down',
    summary: 'stop the lab: targets, then the provisioner (pvmlab up brings it back)',
    async run(argv) {
      parseCommand(argv, {}, { min: 0, max: 0, usage: this.usage });
      const lab = await Lab.open();
      let printer: ReturnType<typeof stagePrinter> | null = null;
      const r = await lab.jobs.run({ kind: 'down', title: 'Lab down' }, (job) => { printer = stagePrinter(job); return downLab(lab, printer.handle); });
      const ms = printer!.finish(true);
      console.log(r.stopped.length ? `lab down in ${formatDuration(ms)}: stopped ${r.stopped.join(', ')}` : 'nothing was running');
      return 0;
    },
  },
};
