import { describe, expect, it } from 'vitest';
import { addressPlan, freeIp, ipHolders, ipProblem, planProblems, vmAddress, type AddressPlan } from './addressing.ts';

const plan: AddressPlan = addressPlan({ backend: 'userspace', subnet: '192.168.100.0/24', provisionerIp: '192.168.100.1', dhcpStart: '192.168.100.100', dhcpEnd: '192.168.100.200' });
const holders = ipHolders(
  [{ name: 'prov', mac: '52:54:00:00:00:01', ip: '192.168.100.1' }, { name: 'stat1', mac: '52:54:00:00:00:30', ip: '192.168.100.30' }, { name: 'dhcp', mac: '52:54:00:00:00:99', ip: null }],
  [{ mac: '52:54:00:aa:00:37', ip: '192.168.100.37', hostname: 'pxe1' }],
);
const target = (mac?: string) => ({ role: 'target' as const, mac, holders });

describe('ipProblem: one validator for every path that sets an IP', () => {
  it('issue 11 #4: the four addresses pxe.reservations.set used to accept', () => {
    expect(ipProblem(plan, '192.168.100.1', target('52:54:00:aa:00:01'))).toEqual({ code: 'BAD_REQUEST', message: "192.168.100.1 is the provisioner's address" });
    expect(ipProblem(plan, '10.9.8.7', target())).toEqual({ code: 'BAD_REQUEST', message: '10.9.8.7 is outside the private network 192.168.100.0/24: use one of 192.168.100.2–192.168.100.99 or 192.168.100.201–192.168.100.254' });
    expect(ipProblem(plan, '192.168.100.255', target())).toEqual({ code: 'BAD_REQUEST', message: '192.168.100.255 is the broadcast address of 192.168.100.0/24, not a host address' });
    expect(ipProblem(plan, '192.168.100.0', target())).toEqual({ code: 'BAD_REQUEST', message: '192.168.100.0 is the network address of 192.168.100.0/24, not a host address' });
  });
  it('the dynamic range is for dnsmasq: refused, except when adopting an existing reservation', () => {
    expect(ipProblem(plan, '192.168.100.150', target())?.message).toBe('192.168.100.150 is inside the dynamic DHCP range 192.168.100.100–192.168.100.200 (dnsmasq may already have leased it to another machine): use one of 192.168.100.2–192.168.100.99 or 192.168.100.201–192.168.100.254');
    expect(ipProblem(plan, '192.168.100.150', { ...target(), adopting: true })).toBeNull();
    expect(ipProblem(plan, '192.168.100.201', target())).toBeNull();
  });
  it('issue 11 #6: an IP held by any VM record cannot be reserved for another MAC; the same MAC may keep it', () => {
    expect(ipProblem(plan, '192.168.100.30', target('52:54:00:bb:00:01'))).toEqual({ code: 'CONFLICT', message: "192.168.100.30 is already held by VM 'stat1': choose another (pvmlab vm list and the PXE page show the ones in use)" });
    expect(ipProblem(plan, '192.168.100.30', target('52:54:00:00:00:30'))).toBeNull();
    expect(ipProblem(plan, '192.168.100.37', target('52:54:00:bb:00:01'))).toEqual({ code: 'CONFLICT', message: '192.168.100.37 is already held by the reservation for 52:54:00:aa:00:37 (pxe1): choose another (pvmlab vm list and the PXE page show the ones in use)' });
    expect(ipProblem(plan, '192.168.100.37', target('52:54:00:AA:00:37'))).toBeNull();
  });
  it('the provisioner gets the plan\'s address and no other', () => {
    expect(ipProblem(plan, '192.168.100.1', { role: 'provisioner', mac: '52:54:00:00:00:01', holders })).toBeNull();
    expect(ipProblem(plan, '192.168.100.5', { role: 'provisioner', holders })?.message).toBe("the provisioner's address is the lab's (192.168.100.1, configs/lab.json): leave it out or use that one");
  });
  it('syntax errors name the value', () => {
    expect(ipProblem(plan, '192.168.100.300', target())).toEqual({ code: 'BAD_REQUEST', message: '"192.168.100.300": use a dotted IPv4 address, e.g. 192.168.100.10' });
  });
  it('socket_vmnet: the Mac takes the last host address', () => {
    const mac = addressPlan({ ...plan, backend: 'socket_vmnet' });
    expect(ipProblem(mac, '192.168.100.254', target())?.message).toBe("192.168.100.254 is the Mac's own address on the socket_vmnet network");
  });
  it('freeIp: the lowest usable address outside the range, none when full', () => {
    expect(freeIp(plan, holders)).toBe('192.168.100.2');
    const small: AddressPlan = { subnet: '10.0.0.0/29', provisionerIp: '10.0.0.1', dhcpStart: '10.0.0.4', dhcpEnd: '10.0.0.6' };
    expect(freeIp(small, ipHolders([], [{ mac: '52:54:00:00:00:02', ip: '10.0.0.2', hostname: 'a' }]))).toBe('10.0.0.3');
    expect(freeIp(small, ipHolders([], [{ mac: '52:54:00:00:00:02', ip: '10.0.0.2', hostname: 'a' }, { mac: '52:54:00:00:00:03', ip: '10.0.0.3', hostname: 'b' }]))).toBeNull();
  });
  it('planProblems: the lab config itself', () => {
    expect(planProblems(plan)).toEqual([]);
    expect(planProblems({ subnet: '192.168.100.0/24', provisionerIp: '192.168.100.1', dhcpStart: '192.168.100.100', dhcpEnd: '192.168.101.5' })).toEqual([
      'dhcpEnd: 192.168.101.5 is not a host address of 192.168.100.0/24',
    ]);
    expect(planProblems({ ...plan, dhcpStart: '192.168.100.200', dhcpEnd: '192.168.100.150' })).toEqual(['dhcpStart: 192.168.100.200 is after dhcpEnd 192.168.100.150']);
    expect(planProblems({ ...plan, provisionerIp: '192.168.100.150' })).toEqual(['provisionerIp: 192.168.100.150 is inside the dynamic range 192.168.100.100–192.168.100.200']);
  });
});

describe('vmAddress: the one answer to "what is this VM\'s IP?"', () => {
  const facts = { reservations: [{ mac: '52:54:00:aa:00:37', ip: '192.168.100.37' }], leases: new Map([['52:54:00:aa:00:37', '192.168.100.108'], ['52:54:00:00:00:99', '192.168.100.120']]) };
  it('target: reservation first (what dnsmasq hands out), then lease, never a record IP without a reservation', () => {
    expect(vmAddress({ role: 'target', mac: '52:54:00:AA:00:37', ip: '192.168.100.37' }, facts)).toBe('192.168.100.37');
    expect(vmAddress({ role: 'target', mac: '52:54:00:00:00:99', ip: null }, facts)).toBe('192.168.100.120');
    expect(vmAddress({ role: 'target', mac: '52:54:00:00:00:30', ip: '192.168.100.30' }, facts)).toBeNull();
  });
  it('issue 11 #4: a reservation at the provisioner\'s address cannot make a target look like the provisioner — the provisioner is its record', () => {
    expect(vmAddress({ role: 'provisioner', mac: '52:54:00:00:00:01', ip: '192.168.100.1' }, facts)).toBe('192.168.100.1');
  });
});
