import { describe, expect, it } from 'vitest';
import { hmpFailure, parseSnapshots } from './snapshots.ts';

describe('parseSnapshots (qemu-img info --output=json)', () => {
  it('gives name, time, RAM bytes and kind, oldest first', () => {
    const info = { snapshots: [
      { id: '2', name: 'disk1', 'vm-state-size': 0, 'date-sec': 1764420000, 'date-nsec': 500_000_000, 'vm-clock-sec': 0, 'vm-clock-nsec': 0 },
      { id: '1', name: 'before', 'vm-state-size': 35_651_584, 'date-sec': 1764419000, 'date-nsec': 0, 'vm-clock-sec': 12, 'vm-clock-nsec': 0 },
    ] };
    expect(parseSnapshots(info)).toEqual([
      { name: 'before', takenAt: '2025-11-29T12:23:20.000Z', vmStateBytes: 35_651_584, kind: 'running' },
      { name: 'disk1', takenAt: '2025-11-29T12:40:00.500Z', vmStateBytes: 0, kind: 'disk-only' },
    ]);
    expect(parseSnapshots({})).toEqual([]);
  });
});

describe('hmpFailure', () => {
  it('HMP prints nothing on success and the error as text otherwise', () => {
    expect(hmpFailure('')).toBeNull();
    expect(hmpFailure('\r\n')).toBeNull();
    expect(hmpFailure("Error: Device 'seed' is writable but does not support snapshots\r\n")).toBe("Device 'seed' is writable but does not support snapshots");
    expect(hmpFailure("Snapshot 'x' does not exist in one or more devices\r\n")).toBe("Snapshot 'x' does not exist in one or more devices");
  });
});
