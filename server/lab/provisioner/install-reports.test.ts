import { describe, expect, it } from 'vitest';
import { foldInstallReports, newInstallId, parseInstallReports } from './install-reports.ts';
import { storedReservation } from './pxe.ts';

const line = (o: Record<string, string>) => JSON.stringify({ time: '2026-11-29T17:00:00+00:00', remote: '192.168.100.10', mac: '', id: '', status: '', sha256: '', reason: '', detail: '', bytes: '', ms: '', mode: '', userAgent: 'Wget', ...o });

describe('install reports', () => {
  it('parses nginx JSON lines, decoding query values and skipping junk', () => {
    const text = [
      line({ mac: '52%3A54%3A00%3AAA%3Abb%3A01', id: 'abcdef0123456789', status: 'installed', sha256: 'c'.repeat(64), bytes: '33554432', ms: '5120', mode: 'ram' }),
      'not json', line({ mac: 'nonsense', id: 'abcdef0123456789', status: 'installed' }), line({ mac: '52:54:00:aa:bb:01', id: 'x', status: 'installed' }),
      line({ mac: '52:54:00:aa:bb:02', id: 'abcdef0123456789', status: 'failed', reason: 'sha256-mismatch', detail: 'd'.repeat(64) }), '',
    ].join('\n');
    expect(parseInstallReports(text)).toEqual([
      { time: '2026-11-29T17:00:00+00:00', mac: '52:54:00:aa:bb:01', id: 'abcdef0123456789', status: 'installed', sha256: 'c'.repeat(64), reason: null, detail: null, bytes: 33554432, ms: 5120, mode: 'ram' },
      { time: '2026-11-29T17:00:00+00:00', mac: '52:54:00:aa:bb:02', id: 'abcdef0123456789', status: 'failed', sha256: null, reason: 'sha256-mismatch', detail: 'd'.repeat(64), bytes: null, ms: null, mode: null },
    ]);
  });
  it('folds the last report of the current install id into the reservation; other ids change nothing', () => {
    const r = storedReservation.parse({ mac: '52:54:00:aa:bb:01', ip: '192.168.100.10', hostname: 'web', profile: { kind: 'image', image: 'd', sha256: 'c'.repeat(64) }, install: { id: 'abcdef0123456789', status: 'pending' } });
    const old = parseInstallReports(line({ mac: '52:54:00:aa:bb:01', id: 'ffffffffffffffff', status: 'installed' }));
    expect(foldInstallReports([r], old, () => 'image d')).toEqual([]);
    const failed = parseInstallReports(line({ mac: '52:54:00:aa:bb:01', id: 'abcdef0123456789', status: 'failed', reason: 'sha256-mismatch', detail: 'e'.repeat(64) }));
    const [f] = foldInstallReports([r], failed, () => 'image d');
    expect(f.install).toEqual({ id: 'abcdef0123456789', status: 'failed', at: '2026-11-29T17:00:00+00:00', from: 'image d',
      reason: `the image's sha256 is not the profile's: nothing was written to the disk (upload the right image, or fix the sha256 in the profile) (${'e'.repeat(64)})` });
    const ok = parseInstallReports(line({ mac: '52:54:00:aa:bb:01', id: 'abcdef0123456789', status: 'installed', sha256: 'c'.repeat(64) }));
    const [i] = foldInstallReports([f], [...failed, ...ok], () => 'image d');
    expect(i.install).toEqual({ id: 'abcdef0123456789', status: 'installed', at: '2026-11-29T17:00:00+00:00', from: 'image d', sha256: 'c'.repeat(64) });
    expect(foldInstallReports([i], [...failed, ...ok], () => 'image d')).toEqual([]); // nothing new
  });
  it('install ids are 16 hex digits, fresh each time', () => {
    expect(newInstallId()).toMatch(/^[0-9a-f]{16}$/);
    expect(newInstallId()).not.toBe(newInstallId());
  });
});
