import { describe, expect, it } from 'vitest';
import { formatClean, formatReset } from './lab.ts';

describe('pvmlab clean says what it did', () => {
  const r = { removed: ['prov', 'target1'], entries: ['/h/configs', '/h/images', '/h/ssh', '/h/vms'], left: ['/h/notes.txt'] };
  it('the home\'s folders are made again, empty: "emptied", not "removed"', () => {
    expect(formatClean(r, () => true, false)).toEqual([
      'emptied /h/configs', 'emptied /h/images', 'emptied /h/ssh', 'emptied /h/vms',
      "left alone /h/notes.txt (not pvmlab's)",
      'lab cleaned (2 VMs removed; the key pair stays: --remove-key removes it)',
    ]);
  });
  it('an entry that is gone afterwards was removed; a removed key pair was replaced by a new one', () => {
    expect(formatClean({ ...r, removed: ['prov'] }, (p) => p !== '/h/images', true)).toEqual([
      'emptied /h/configs', 'removed /h/images', 'removed the key pair in /h/ssh; a new one was made for the next lab', 'emptied /h/vms',
      "left alone /h/notes.txt (not pvmlab's)",
      'lab cleaned (1 VM removed)',
    ]);
  });
});

describe('pvmlab reset', () => {
  it('ends with where each target got to', () => {
    expect(formatReset({ provisioner: 'prov', targets: [{ name: 'target1', ip: '192.168.100.2', state: 'ssh ok' }, { name: 'inst', ip: null, state: 'booting' }] }, 56_600))
      .toBe('lab reset in 56.6 s: prov from its ready snapshot, re-provisioned target1 192.168.100.2 ssh ok, inst booting');
    expect(formatReset({ provisioner: 'prov', targets: [] }, 20_000)).toBe('lab reset in 20.0 s: prov from its ready snapshot, no running target to re-provision');
  });
});
