// `pvmlab`: the command line, sharing the panel's core. Exit 0 on success, 1 on failure, 2 on usage errors.
import path from 'node:path';
import { execa } from 'execa';
import { HelpRequest, UsageError, isHelpFlag, parseCommand, parsePort } from './cli/args.ts';
import { formatDoctor } from './cli/format.ts';
import { GUEST_ARCHES, Lab, LabHome, type GuestArch } from './lab/lab.ts';
import { describeError } from './cli/common.ts';
import { labCommands } from './cli/commands/lab.ts';
import { upCommands } from './cli/commands/up.ts';
import { pxeCommands } from './cli/commands/pxe.ts';
import { completionCommands } from './cli/commands/completion.ts';
import { buildState } from './build.ts';

export interface Command { usage: string; summary: string; run(argv: string[]): Promise<number>; /** A group's verbs (for help and shell completion). */ subcommands?: Record<string, Command> }

const commands: Record<string, Command> = {
  setup: {
    usage: 'pvmlab setup [--json]',
    summary: 'create the lab home and key, check the host',
    async run(argv) {
      const { values } = parseCommand(argv, { json: { type: 'boolean' } }, { min: 0, max: 0, usage: this.usage });
      const lab = await Lab.open();
      const [home, doctor] = await Promise.all([lab.homeInfo(), lab.doctor()]);
      if (values.json) console.log(JSON.stringify({ home, doctor }, null, 2));
      else console.log(formatDoctor(doctor, home));
      return doctor.ok ? 0 : 1;
    },
  },
  doctor: {
    usage: 'pvmlab doctor [--json] [--recheck] [--qemu-accel x86_64|aarch64]',
    summary: 'check the host: accelerator (proven by booting a guest), tools, firmware',
    async run(argv) {
      const { values } = parseCommand(argv, { json: { type: 'boolean' }, recheck: { type: 'boolean' }, 'qemu-accel': { type: 'string' } },
        { min: 0, max: 0, usage: this.usage });
      const lab = new Lab(new LabHome());
      const doctor = values.recheck ? await lab.recheck() : await lab.doctor();
      const qa = values['qemu-accel'];
      if (typeof qa === 'string') {
        // For scripts (the image builder): the QEMU arguments a VM of this arch would get, on one line.
        if (!GUEST_ARCHES.includes(qa as GuestArch)) throw new UsageError(`--qemu-accel: use x86_64 or aarch64, got '${qa}'`);
        const a = doctor.accelerators[qa as GuestArch];
        console.log(`-accel ${a.accelerator} -cpu ${a.cpu}`);
        return 0;
      }
      if (values.json) console.log(JSON.stringify({ home: lab.home.root, doctor }, null, 2));
      else console.log(formatDoctor(doctor));
      return doctor.ok ? 0 : 1;
    },
  },
  serve: {
    usage: 'pvmlab serve [--port N] [--dev]',
    summary: 'run the panel on 127.0.0.1 (same as npm start)',
    async run(argv) {
      const { values } = parseCommand(argv, { port: { type: 'string' }, dev: { type: 'boolean' } }, { min: 0, max: 0, usage: this.usage });
      const port = parsePort(values.port, process.env.PVMLAB_PORT, 7780);
      const dev = !!values.dev;
      const { PROJECT_ROOT, startPanel } = await import('./main.ts');
      if (!dev) await ensureBuilt(PROJECT_ROOT);
      const lab = await Lab.open();
      lab.watch();
      const { closePanelSockets, panelSockets } = await import('./sockets/registry.ts');
      const panel = await startPanel({ lab, port, dev, sockets: panelSockets, closeSockets: closePanelSockets });
      console.log(`pvmlab panel on http://127.0.0.1:${port}/ (lab home ${lab.home.root})`);
      console.log(`open: ${panel.launchUrl}`);
      const stop = async () => { await panel.close(); await lab.close(); process.exit(0); };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      await new Promise(() => {});
      return 0;
    },
  },
};

Object.assign(commands, upCommands, labCommands, pxeCommands, completionCommands(commands));

/** Build the app the first time (and again when pages changed since the last build). */
async function ensureBuilt(root: string): Promise<void> {
  const state = buildState(root);
  if (state === 'fresh') return;
  console.error(state === 'stale' ? 'pages changed since the last build: building the panel…' : 'first start: building the panel (about 30 s)…');
  await execa(path.join(root, 'node_modules', '.bin', 'next'), ['build'], { cwd: root, stdio: 'inherit' });
}

function help(): string {
  const lines = Object.entries(commands).filter(([n]) => !n.startsWith('_'))
    .map(([, c]) => (c.usage.length > 48 ? `  ${c.usage}\n  ${''.padEnd(48)} ${c.summary}` : `  ${c.usage.padEnd(48)} ${c.summary}`));
  return `pvmlab — a provisioning lab on one computer\n\nusage:\n${lines.join('\n')}\n`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || isHelpFlag(name)) { process.stdout.write(help()); return name ? 0 : 2; }
  const cmd = commands[name];
  try {
    if (!cmd) throw new UsageError(`unknown command '${name}' (try: pvmlab help)`);
    return await cmd.run(rest);
  } catch (e) {
    if (e instanceof HelpRequest) { console.log(`usage: ${e.usage}${cmd?.summary ? `\n${cmd.summary}` : ''}`); return 0; }
    if (e instanceof UsageError) { console.error(`pvmlab: ${e.message}`); return 2; }
    // One readable line for every error, zod's included (never a raw JSON dump), then the detail it carries
    // (a console tail, a builder's last lines), indented.
    const [first, ...detail] = describeError(e).split('\n');
    console.error(`pvmlab: ${first}`);
    for (const l of detail.filter((x) => x.trim()).slice(-15)) console.error(`  ${l}`);
    return 1;
  }
}

const isEntry = process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname);
if (isEntry || process.env.PVMLAB_CLI_ENTRY === '1') {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
