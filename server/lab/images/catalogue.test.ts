import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LabHome } from '../home.ts';
import { CATALOGUE, ImageRefError, catalogueNames, parseSha256Sums, resolveImage } from './catalogue.ts';

const tmps: string[] = [];
function tmpHome(): LabHome {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'pvcat-'));
  tmps.push(d);
  fs.mkdirSync(path.join(d, 'images'));
  return new LabHome(d);
}
afterEach(() => { for (const d of tmps.splice(0)) fs.rmSync(d, { recursive: true, force: true }); });

const NOBLE = 'https://cloud-images.ubuntu.com/noble/current/';

describe('catalogue', () => {
  it('lists Ubuntu 24.04 for both arches', () => {
    expect(CATALOGUE.map((e) => [e.name, e.arch, e.url, e.checksumsUrl, e.fileName])).toEqual([
      ['ubuntu-24.04-amd64', 'x86_64', `${NOBLE}noble-server-cloudimg-amd64.img`, `${NOBLE}SHA256SUMS`, 'noble-server-cloudimg-amd64.img'],
      ['ubuntu-24.04-arm64', 'aarch64', `${NOBLE}noble-server-cloudimg-arm64.img`, `${NOBLE}SHA256SUMS`, 'noble-server-cloudimg-arm64.img'],
    ]);
    expect(catalogueNames()).toEqual(['ubuntu-24.04', 'ubuntu-24.04-amd64', 'ubuntu-24.04-arm64']);
  });

  it.each([
    ['ubuntu-24.04', 'x86_64', 'ubuntu-24.04-amd64', 'noble-server-cloudimg-amd64.img'],
    ['ubuntu-24.04', 'aarch64', 'ubuntu-24.04-arm64', 'noble-server-cloudimg-arm64.img'],
    ['ubuntu-24.04-amd64', 'x86_64', 'ubuntu-24.04-amd64', 'noble-server-cloudimg-amd64.img'],
    ['ubuntu-24.04-arm64', 'aarch64', 'ubuntu-24.04-arm64', 'noble-server-cloudimg-arm64.img'],
  ] as const)('resolves %s for %s to %s in images/', (ref, arch, name, file) => {
    const home = tmpHome();
    expect(resolveImage(ref, arch, home)).toEqual({
      kind: 'catalogue', entry: CATALOGUE.find((e) => e.name === name), path: path.join(home.root, 'images', file), present: false,
    });
  });

  it('reports a catalogue image as present once its file is in images/', () => {
    const home = tmpHome();
    fs.writeFileSync(path.join(home.root, 'images', 'noble-server-cloudimg-amd64.img'), 'x');
    expect(resolveImage('ubuntu-24.04', 'x86_64', home)).toMatchObject({ kind: 'catalogue', present: true });
    expect(resolveImage('ubuntu-24.04', 'aarch64', home)).toMatchObject({ kind: 'catalogue', present: false });
  });

  it('refuses an explicit name for the other arch, suggesting the right one', () => {
    expect(() => resolveImage('ubuntu-24.04-arm64', 'x86_64', tmpHome()))
      .toThrow("image: 'ubuntu-24.04-arm64' is for aarch64 but the VM is x86_64: use 'ubuntu-24.04' or 'ubuntu-24.04-amd64'");
  });

  it('accepts an absolute path to a regular file (symlinks followed)', () => {
    const home = tmpHome();
    const f = path.join(home.root, 'my.qcow2');
    fs.writeFileSync(f, 'qcow');
    fs.symlinkSync(f, path.join(home.root, 'link.qcow2'));
    expect(resolveImage(f, 'x86_64', home)).toEqual({ kind: 'file', path: f });
    expect(resolveImage(path.join(home.root, 'images', '..', 'my.qcow2'), 'aarch64', home)).toEqual({ kind: 'file', path: f });
    expect(resolveImage(path.join(home.root, 'link.qcow2'), 'x86_64', home)).toEqual({ kind: 'file', path: path.join(home.root, 'link.qcow2') });
  });

  it('explains a missing file, a directory and an unknown name, naming the field', () => {
    const home = tmpHome();
    const missing = path.join(home.root, 'nope.img');
    const err = (() => { try { resolveImage(missing, 'x86_64', home); } catch (e) { return e; } })();
    expect(err).toBeInstanceOf(ImageRefError);
    expect((err as ImageRefError).field).toBe('image');
    expect((err as Error).message).toBe(`image: no such file: ${missing}`);
    expect(() => resolveImage(home.root, 'x86_64', home)).toThrow(`image: not a regular file: ${home.root} (it is a directory)`);
    expect(() => resolveImage('debian-12', 'x86_64', home))
      .toThrow("unknown image 'debian-12': use one of ubuntu-24.04, ubuntu-24.04-amd64, ubuntu-24.04-arm64 or an absolute path");
    expect(() => resolveImage('images/my.qcow2', 'x86_64', home)).toThrow(/unknown image 'images\/my.qcow2'/);
  });
});

describe('parseSha256Sums', () => {
  const a = 'a'.repeat(64);
  const b = 'B'.repeat(64);
  const text = [
    `${a} *noble-server-cloudimg-amd64.img`,
    `${b}  noble-server-cloudimg-arm64.img\r`,
    `${'c'.repeat(64)} *noble-server-cloudimg-amd64.img.manifest`,
    'garbage line',
    `${'d'.repeat(63)} *short.img`,
    '',
  ].join('\n');

  it.each([
    ['binary-mode line', 'noble-server-cloudimg-amd64.img', a],
    ['text-mode line with CRLF, lowercased', 'noble-server-cloudimg-arm64.img', 'b'.repeat(64)],
    ['a name that is a prefix of another', 'noble-server-cloudimg-amd64.img.manifest', 'c'.repeat(64)],
    ['an unlisted file', 'noble-server-cloudimg-riscv64.img', null],
    ['a malformed hash', 'short.img', null],
    ['a partial name', 'noble-server-cloudimg', null],
  ])('finds the %s', (_what, name, expected) => {
    expect(parseSha256Sums(text, name)).toBe(expected);
  });
});
