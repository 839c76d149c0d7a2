// `pvmlab vm snapshot …`: snapshots with RAM (running) or disk-only (stopped).
import { parseCommand, UsageError } from '../args.ts';
import { formatBytes, formatTable } from '../format.ts';
import type { Command } from '../../cli.ts';
import { describeError, openLab } from '../common.ts';

export const snapshotCommand: Command = {
  usage: 'pvmlab vm snapshot <vm> [take|ls|revert|rm] [NAME] [--json]',
  summary: 'snapshots of a VM: with RAM when it runs (revert resumes it), disk-only when stopped (revert: the disk; it boots anew)',
  async run(argv) {
    const { values, positionals } = parseCommand(argv, { json: { type: 'boolean' } }, { min: 1, max: 3, usage: this.usage });
    const [vm, verb = 'ls', name] = positionals;
    const lab = await openLab();
    const need = () => { if (!name) throw new UsageError(`snapshot ${verb} needs a NAME (usage: ${this.usage})`); return name; };
    try {
      if (verb === 'ls') {
        const list = await lab.listSnapshots(vm);
        if (values.json) console.log(JSON.stringify(list, null, 2));
        else console.log(list.length ? formatTable(['NAME', 'TAKEN', 'KIND', 'RAM'], list.map((s) => [s.name, s.takenAt, s.kind, s.vmStateBytes ? formatBytes(s.vmStateBytes) : '-']))
          : `'${vm}' has no snapshots: pvmlab vm snapshot ${vm} take NAME`);
      } else if (verb === 'take') {
        const t0 = Date.now();
        const s = await lab.takeSnapshot(vm, need());
        console.log(`snapshot '${s.name}' of '${vm}' taken in ${((Date.now() - t0) / 1000).toFixed(1)} s (${s.kind === 'running' ? `with RAM, ${formatBytes(s.vmStateBytes)}` : 'disk-only: keeps the disk, not RAM or running processes'})`);
      } else if (verb === 'revert') {
        const t0 = Date.now();
        const v = await lab.revertSnapshot(vm, need());
        console.log(`'${vm}' reverted to '${name}' in ${((Date.now() - t0) / 1000).toFixed(1)} s (${v.status})`);
      } else if (verb === 'rm') {
        await lab.removeSnapshot(vm, need());
        console.log(`snapshot '${name}' of '${vm}' removed`);
      } else {
        throw new UsageError(`unknown snapshot action '${verb}': use take, ls, revert or rm`);
      }
    } catch (e) { if (e instanceof UsageError) throw e; throw new Error(describeError(e)); }
    return 0;
  },
};
