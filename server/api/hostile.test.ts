// Hostile inputs through the API: BAD_REQUEST naming the field, and nothing written anywhere.
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appRouter } from './root.ts';
import { createCallerFactory } from './trpc.ts';
import { tempLab } from '../lab/testing/guests.ts';
import { NAME_RE } from '../lab/spec.ts';

let env: Awaited<ReturnType<typeof tempLab>>;
const createCaller = createCallerFactory(appRouter);
let caller: ReturnType<typeof createCaller>;

function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => { for (const e of fs.readdirSync(d, { withFileTypes: true })) { const p = path.join(d, e.name); out.push(p); if (e.isDirectory()) walk(p); } };
  walk(dir);
  return out.sort();
}

beforeAll(async () => {
  env = await tempLab();
  caller = createCaller({ lab: env.lab });
});
afterAll(async () => { await env.dispose(); });

async function badRequest(input: unknown, field: string) {
  const err = await caller.vm.create(input as never).then(() => null, (e: unknown) => e);
  expect(err, `expected BAD_REQUEST for ${JSON.stringify(input)}`).toBeInstanceOf(TRPCError);
  expect((err as TRPCError).code).toBe('BAD_REQUEST');
  expect((err as TRPCError).message).toContain(field);
}

const ok = { name: 'ok', boot: 'kernel', kernel: '/bin/true' };

describe('vm.create refuses hostile input', () => {
  it.each([
    [{ ...ok, name: '../evil' }, 'name'], [{ ...ok, name: 'a;rm -rf /' }, 'name'], [{ ...ok, name: 'has space' }, 'name'],
    [{ ...ok, name: 'a'.repeat(200) }, 'name'], [{ ...ok, name: 'Upper' }, 'name'], [{ ...ok, name: '' }, 'name'],
    [{ ...ok, name: '-lead' }, 'name'], [{ ...ok, name: 'a/b' }, 'name'], [{ ...ok, name: 'a\u0000b' }, 'name'],
    [{ ...ok, mac: 'zz:zz:zz:zz:zz:zz' }, 'mac'], [{ ...ok, mac: '00:11:22:33:44:55' }, 'mac'], [{ ...ok, mac: '03:00:00:00:00:01' }, 'mac'],
    [{ ...ok, mac: '02:00:00:00:00' }, 'mac'], [{ ...ok, ip: '10.0.0.5' }, 'ip'], [{ ...ok, ip: '192.168.100.255' }, 'ip'],
    [{ ...ok, ip: '192.168.100.0' }, 'ip'], [{ ...ok, ip: '999.1.1.1' }, 'ip'], [{ ...ok, ip: '192.168.100.150' }, 'ip'],
    [{ ...ok, cpus: 0 }, 'cpus'], [{ ...ok, cpus: 1000 }, 'cpus'], [{ ...ok, cpus: 1.5 }, 'cpus'],
    [{ ...ok, memory: '1T' }, 'memory'], [{ ...ok, memory: '-5' }, 'memory'], [{ ...ok, memory: '99999999G' }, 'memory'],
    [{ ...ok, diskSize: '1' }, 'diskSize'], [{ ...ok, arch: 'mips' }, 'arch'], [{ ...ok, role: 'admin' }, 'role'],
    [{ ...ok, boot: 'floppy' }, 'boot'], [{ ...ok, kernel: 'relative/path' }, 'kernel'], [{ ...ok, kernel: '/no/such/kernel' }, 'kernel'],
    [{ ...ok, append: 'a\nb' }, 'append'], [{ ...ok, extra: 1 }, 'extra'], [{ name: 'x', boot: 'disk' }, 'image'],
    [{ name: 'x', image: 'no-such-image' }, 'image'],
    [{ name: 'x', role: 'provisioner', boot: 'pxe' }, 'boot'],
  ])('%j → BAD_REQUEST on %s', async (input, field) => {
    await badRequest(input, field);
  });

  it('property: any name outside the pattern is refused and writes nothing', async () => {
    const before = snapshot(env.root);
    await fc.assert(fc.asyncProperty(fc.string({ maxLength: 64 }), async (name) => {
      fc.pre(!NAME_RE.test(name));
      await badRequest({ ...ok, name }, 'name');
    }), { numRuns: 200 });
    await fc.assert(fc.asyncProperty(fc.string({ maxLength: 40 }), async (mac) => {
      fc.pre(!/^([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}$/.test(mac.trim()));
      await badRequest({ ...ok, mac }, 'mac');
    }), { numRuns: 200 });
    expect(snapshot(env.root)).toEqual(before);
  });

  it('vm.get / vm.start with a path-like name are BAD_REQUEST, an unknown name NOT_FOUND', async () => {
    for (const name of ['../../etc/passwd', 'a/../b', '..']) {
      await expect(caller.vm.get({ name })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
      await expect(caller.vm.start({ name })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    }
    await expect(caller.vm.get({ name: 'nosuchvm' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
