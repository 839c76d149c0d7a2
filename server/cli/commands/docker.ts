// `pvmlab vm docker …`: the pxeboot container in the provisioner.
import { parseCommand, UsageError } from '../args.ts';
import { formatTable } from '../format.ts';
import type { Command } from '../../cli.ts';
import { openLab } from '../common.ts';

export const dockerCommands: Record<string, Command> = {
  start: {
    usage: 'pvmlab vm docker start <provisioner> [image.tar]',
    summary: 'build (or load from a tar) and run the pxeboot container, staged',
    async run(argv) {
      const { positionals } = parseCommand(argv, {}, { min: 1, max: 2, usage: this.usage });
      const lab = await openLab();
      if (lab.provisionerName() !== positionals[0]) throw new UsageError(`'${positionals[0]}' is not the lab's provisioner`);
      await lab.jobs.run({ kind: 'provisioner', title: 'pxeboot stack', vm: positionals[0] }, (job) => lab.provisionerReady(job, { imageTar: positionals[1] }));
      console.log('pxeboot container healthy');
      return 0;
    },
  },
  stop: {
    usage: 'pvmlab vm docker stop <provisioner>',
    summary: 'stop the pxeboot container',
    async run(argv) {
      parseCommand(argv, {}, { min: 1, max: 1, usage: this.usage });
      const lab = await openLab();
      await lab.docker('stop');
      console.log('pxeboot container stopped');
      return 0;
    },
  },
  status: {
    usage: 'pvmlab vm docker status <provisioner>',
    summary: 'containers in the provisioner and their state',
    async run(argv) {
      parseCommand(argv, {}, { min: 1, max: 1, usage: this.usage });
      const lab = await openLab();
      const list = (await lab.dockerStatus()).containers;
      console.log(list.length ? formatTable(['NAME', 'IMAGE', 'STATUS'], list.map((c) => [c.name, c.image, c.status])) : 'no containers');
      return 0;
    },
  },
};

