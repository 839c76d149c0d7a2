import { describe, expect, it } from 'vitest';
import type { Timeline } from '../../lab/lab.ts';
import { formatTimeline } from './timeline.ts';

const t: Timeline = {
  vm: 'bad1', mac: '52:54:00:fe:13:91', ip: '192.168.100.3', poweredOnAt: '2026-11-29T17:29:32.026Z', bootKind: 'power on', boot: 0, boots: 2, path: 'ipxe-rom',
  stages: [
    { id: 'firmware', label: 'firmware', start: 0, end: 3360, status: 'done', detail: 'power-on to the first DHCP DISCOVER' },
    { id: 'kernel-fetch', label: 'kernel download', start: 4130, end: 4131, status: 'failed', detail: 'no-such-vmlinuz 404, 1 KiB — kernel 404: /artifacts/no-such-vmlinuz is not on the stack' },
  ],
  events: [{ t: 4130, dur: 1, source: 'http', label: 'GET /artifacts/no-such-vmlinuz', detail: '404, 1 KiB', bad: true }],
  diagnosis: { ok: false, inProgress: false, stage: 'kernel-fetch', cause: 'kernel 404: /artifacts/no-such-vmlinuz is not on the stack', hint: 'upload the artifact or fix the boot profile\'s kernel' },
  clock: { provisionerOffsetMs: -6484, uncertaintyMs: 25, consoleTimed: true, notes: [] },
};

describe('formatTimeline', () => {
  it('a header, the stages with ✗ on the failed one, the verdict with its hint, the clock', () => {
    expect(formatTimeline(t).split('\n')).toEqual([
      'bad1 (52:54:00:fe:13:91 192.168.100.3) · boot 1 of 2 · power on 2026-11-29T17:29:32.026Z · path ipxe-rom',
      'STAGE              START   END     TOOK    DETAIL',
      '  firmware         0.00 s  3.36 s  3.36 s  power-on to the first DHCP DISCOVER',
      '✗ kernel download  4.13 s  4.13 s  0.00 s  no-such-vmlinuz 404, 1 KiB — kernel 404: /artifacts/no-such-vmlinuz is not on the stack',
      '✗ stopped at kernel-fetch: kernel 404: /artifacts/no-such-vmlinuz is not on the stack',
      '  upload the artifact or fix the boot profile\'s kernel',
      'clock: provisioner -6484 ms ± 25 ms vs the host; console timed',
    ]);
  });
  it('--events adds every event, failures marked', () => {
    expect(formatTimeline(t, true)).toMatch(/\n4\.13 s +http +✗ GET \/artifacts\/no-such-vmlinuz +404, 1 KiB$/);
  });
});
