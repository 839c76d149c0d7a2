// issue 11 #3 through the API the VM page uses: vm.log decodes whole characters and returns the byte range it decoded.
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appRouter } from './root.ts';
import { createCallerFactory } from './trpc.ts';
import { tempLab } from '../lab/testing/guests.ts';

let env: Awaited<ReturnType<typeof tempLab>>;
const createCaller = createCallerFactory(appRouter);
let caller: ReturnType<typeof createCaller>;

beforeAll(async () => {
  env = await tempLab();
  caller = createCaller({ lab: env.lab });
  await caller.vm.create({ name: 'logt', boot: 'kernel', kernel: '/bin/true' });
});
afterAll(async () => { await env.dispose(); });

describe('vm.log', () => {
  it('"boot ok " + E2 9C with offset -4096: no U+FFFD; reading on from the returned offset gives the ✓ whole', async () => {
    const file = env.lab.home.vmLog('logt');
    fs.writeFileSync(file, Buffer.concat([Buffer.from('boot ok '), Buffer.from([0xe2, 0x9c])]));
    const first = await caller.vm.log({ name: 'logt', offset: -4096 });
    expect(first).toEqual({ data: 'boot ok ', start: 0, offset: 8, size: 10 });
    fs.appendFileSync(file, Buffer.from([0x93, 0x0a]));
    expect(await caller.vm.log({ name: 'logt', offset: first.offset })).toEqual({ data: '✓\n', start: 8, offset: 12, size: 12 });
  });
  it('a window that starts inside a character starts at the next one', async () => {
    fs.writeFileSync(env.lab.home.vmLog('logt'), Buffer.from('──x'));
    expect(await caller.vm.log({ name: 'logt', offset: -5 })).toEqual({ data: '─x', start: 3, offset: 7, size: 7 });
  });
});
