import { describe, expect, it } from 'vitest';
import { planNetwork } from './network.ts';
import { newLabConfig } from '../config.ts';

const cfg = newLabConfig('linux', () => 3);

describe('planNetwork', () => {
  it('nothing asked, or the same network: nothing to do', () => {
    expect(planNetwork(cfg, null, 3)).toEqual({ write: null, conflict: null });
    expect(planNetwork(cfg, { subnet: '192.168.100.0/24', dhcpRange: ['192.168.100.100', '192.168.100.200'] }, 3)).toEqual({ write: null, conflict: null });
  });
  it('another network on an empty lab: the new config (provisioner .1)', () => {
    const r = planNetwork(cfg, { subnet: '10.9.0.0/24', dhcpRange: ['10.9.0.100', '10.9.0.150'] }, 0);
    expect(r.conflict).toBeNull();
    expect(r.write?.network).toMatchObject({ subnet: '10.9.0.0/24', provisionerIp: '10.9.0.1', dhcpStart: '10.9.0.100', dhcpEnd: '10.9.0.150', mcast: cfg.network.mcast });
  });
  it('another network on a lab with VMs: a conflict that says how to move it', () => {
    expect(planNetwork(cfg, { subnet: '10.9.0.0/24', dhcpRange: ['10.9.0.100', '10.9.0.150'] }, 2).conflict).toMatch(/has VMs.*change the file back, or empty the lab first \(pvmlab clean\)/);
  });
});
