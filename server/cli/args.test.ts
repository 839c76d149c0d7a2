import { describe, expect, it } from 'vitest';
import { UsageError, parseCommand, parsePort } from './args.ts';
import { main } from '../cli.ts';

const spec = { json: { type: 'boolean' as const }, port: { type: 'string' as const } };
const pos = { min: 0, max: 0, usage: 'pvmlab x [--json]' };

describe('CLI arguments', () => {
  it('parses known flags', () => {
    expect(parseCommand(['--json'], spec, pos).values.json).toBe(true);
  });
  it('unknown flags, extra and missing arguments are usage errors with the usage line', () => {
    expect(() => parseCommand(['--jsn'], spec, pos)).toThrow(UsageError);
    expect(() => parseCommand(['--jsn'], spec, pos)).toThrow(/Unknown option '--jsn'.*usage: pvmlab x/);
    expect(() => parseCommand(['extra'], spec, pos)).toThrow(/unexpected argument 'extra'/);
    expect(() => parseCommand([], spec, { min: 1, max: 1, usage: 'pvmlab vm start <name>' })).toThrow(/missing argument/);
    expect(() => parseCommand(['--port'], spec, pos)).toThrow(UsageError);
  });
  it('ports', () => {
    expect(parsePort(undefined, undefined, 7780)).toBe(7780);
    expect(parsePort(undefined, '8000', 7780)).toBe(8000);
    expect(parsePort('9000', '8000', 7780)).toBe(9000);
    for (const bad of ['0', '65536', 'abc', '80x', '-1']) expect(() => parsePort(bad, undefined, 1)).toThrow(/--port must be a number/);
  });
  it('main: unknown command exits 2, help exits 0', async () => {
    expect(await main(['nope'])).toBe(2);
    expect(await main(['help'])).toBe(0);
    expect(await main(['doctor', '--bogus'])).toBe(2);
  });
});
