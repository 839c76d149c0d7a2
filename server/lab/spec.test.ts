import { describe, expect, it } from 'vitest';
import { vmNameAfter } from './spec.ts';

describe('vmNameAfter (VM names in socket and download paths)', () => {
  it('decodes and validates the name after the prefix', () => {
    expect(vmNameAfter('/ws/serial/web-1', '/ws/serial/')).toEqual({ name: 'web-1' });
    expect(vmNameAfter('/api/logs/w%65b', '/api/logs/')).toEqual({ name: 'web' });
  });
  it('answers bad names and malformed escapes with an error instead of throwing', () => {
    for (const p of ['/ws/ssh/%E0%A4%A', '/ws/ssh/%', '/ws/ssh/..%2Fconfigs', '/ws/ssh/', '/ws/ssh/Web', '/ws/ssh/a%00b']) {
      const r = vmNameAfter(p, '/ws/ssh/');
      expect(r, p).toHaveProperty('error');
      expect((r as { error: string }).error, p).toMatch(/^bad VM name: /);
    }
  });
});
