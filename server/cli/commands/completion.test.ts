import { describe, expect, it } from 'vitest';
import { complete, flagsOf, keywordsOf } from './completion.ts';
import { upCommands } from './up.ts';
import { labCommands } from './lab.ts';
import { pxeCommands } from './pxe.ts';

const commands = { ...upCommands, ...labCommands, ...pxeCommands };
const facts = { vms: ['prov', 'target1'], artifacts: async () => ['linux', 'initrd.gz'] };

describe('completion', () => {
  it.each<[string[], string[]]>([
    [['d'], ['down']],
    [['vm', ''], ['clean', 'create', 'docker', 'list', 'logs', 'reprovision', 'shell', 'snapshot', 'start', 'stop', 'timeline']],
    [['vm', 'sta'], ['start']],
    [['vm', 'start', ''], ['prov', 'target1']],
    [['vm', 'start', 't'], ['target1']],
    [['vm', 'start', '--'], ['--cold', '--wait']],
    [['vm', 'start', 'prov', ''], []],
    [['up', '--i'], ['--image']],
    [['pxe', ''], ['artifacts', 'catalogue', 'explain', 'leases', 'profile', 'reservations']],
    [['pxe', 'profile', ''], ['prov', 'target1']],
    [['pxe', 'profile', 'target1', '--k'], ['--kernel']],
    [['pxe', 'artifacts', ''], ['add', 'ls', 'rm']],
    [['pxe', 'artifacts', 'rm', ''], ['initrd.gz', 'linux']],
    [['pxe', 'reservations', 'rm', 't'], ['target1']],
    [['up', '--image', ''], ['auto', 'offline', 'ubuntu-24.04']],
    [['up', '--arch', 'a'], ['aarch64']],
    [['pxe', 'profile', 'target1', '--catalogue', ''], ['debian-12-installer', 'live', 'netboot.xyz', 'ubuntu-24.04-live-server']],
    [['pxe', 'profile', 'target1', '--catalogue', 'u'], ['ubuntu-24.04-live-server']],
    [['nope', ''], []],
  ])('%j → %j', async (words, expected) => { expect(await complete(words, commands, facts)).toEqual(expected); });

  it('flags and keywords come from the usage lines', () => {
    expect(flagsOf('pvmlab apply <lab.yaml> [--prune] [--dry-run] [--json]')).toEqual(['--prune', '--dry-run', '--json']);
    expect(keywordsOf('pvmlab pxe reservations [--json] | set <mac> <ip> <hostname> | rm <mac|hostname>')).toEqual(['set', 'rm']);
  });
});

describe('the bash script, in bash', () => {
  it('completes `pvmlab vm st` to start and stop through pvmlab __complete', async () => {
    const { execa } = await import('execa');
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pvc-'));
    const bin = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../bin/pvmlab.mjs');
    fs.writeFileSync(path.join(dir, 'pvmlab'), `#!/bin/sh\nexec node ${bin} "$@"\n`, { mode: 0o755 });
    const script = 'source <(pvmlab completion bash); COMP_WORDS=(pvmlab vm st); COMP_CWORD=2; _pvmlab; printf "%s\\n" "${COMPREPLY[@]}"';
    const r = await execa('bash', ['-c', script], { env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, PVMLAB_HOME: path.join(dir, 'h') } });
    fs.rmSync(dir, { recursive: true, force: true });
    expect(r.stdout.split('\n')).toEqual(['start', 'stop']);
  }, 60_000);
});
