// The lab as a graph (pure): host, network service, uplink, provisioner (with Docker and the pxeboot
// container inside), the private network and every target. Layout and drawing happen elsewhere.
import type { RouterOutputs } from '@/server/api/root';
type VmView = RouterOutputs['vm']['get'];
type LabConfig = RouterOutputs['lab']['config'];
type NetworkStatus = RouterOutputs['network']['status'];

export type TopoKind = 'host' | 'netsvc' | 'uplink' | 'privnet' | 'provisioner' | 'target' | 'docker' | 'pxeboot' | 'placeholder';

export interface TopoLine { k: string; v: string; mono?: boolean; testId?: string }

export interface BoxData extends Record<string, unknown> {
  kind: TopoKind;
  title: string;
  /** Drives the colour: running / starting / stopping / crashed / stopped / paused / unknown / ok / missing. */
  status?: string;
  lines: TopoLine[];
  /** Where a click goes (VM nodes). */
  href?: string;
  vm?: string;
  testId: string;
}

export interface TopoNode {
  id: string;
  width: number;
  height: number;
  parentId?: string;
  /** Compound node: its children are laid out inside it, below a header this tall. */
  headerHeight?: number;
  data: BoxData;
}

export interface TopoEdge { id: string; source: string; target: string; label?: string }

export interface TopoGraph { nodes: TopoNode[]; edges: TopoEdge[] }

/** Docker and pxeboot container status, if the server can tell (provisioner.docker.status). */
export interface DockerStatus { docker: string; pxeboot: string; detail?: string }

export interface TopoInput {
  vms: VmView[];
  config?: LabConfig;
  network?: NetworkStatus;
  host?: { distro: string; cpuArch: string; accelerator: string };
  docker?: DockerStatus | null;
}

export const NODE_WIDTH = 230;
const LINE_H = 17;
const HEAD_H = 34;
const PAD_H = 12;
const CHILD_W = 168;

function boxHeight(lines: number): number { return HEAD_H + lines * LINE_H + PAD_H; }

function node(id: string, data: BoxData, width = NODE_WIDTH): TopoNode {
  return { id, width, height: boxHeight(data.lines.length), data };
}

export const vmNodeId = (name: string) => `vm:${name}`;

export function buildGraph(input: TopoInput): TopoGraph {
  const { vms, config, network, host, docker } = input;
  const nodes: TopoNode[] = [];
  const edges: TopoEdge[] = [];
  const net = config?.network;

  nodes.push(node('host', {
    kind: 'host', title: 'Host', testId: 'topo-host',
    lines: host
      ? [{ k: 'os', v: host.distro }, { k: 'cpu', v: host.cpuArch, mono: true }, { k: 'accel', v: host.accelerator, mono: true }]
      : [{ k: 'os', v: 'checking…' }],
  }));

  const backend = network?.backend ?? net?.backend;
  const svcLines: TopoLine[] = [];
  if (backend === 'socket_vmnet') {
    svcLines.push({ k: 'kind', v: 'socket_vmnet (host mode)' });
    if (net) svcLines.push({ k: 'socket', v: net.socketVmnet.socketPath, mono: true });
  } else {
    svcLines.push({ k: 'kind', v: 'userspace multicast segment' });
    if (net) svcLines.push({ k: 'group', v: `${net.mcast.group}:${net.mcast.port}`, mono: true });
    svcLines.push({ k: 'bind', v: '127.0.0.1', mono: true });
  }
  nodes.push(node('netsvc', {
    kind: 'netsvc', title: 'Network service', testId: 'topo-netsvc', lines: svcLines,
    status: network ? (network.running ? 'running' : 'stopped') : 'unknown',
  }));
  edges.push({ id: 'host-netsvc', source: 'host', target: 'netsvc' });

  nodes.push(node('uplink', {
    kind: 'uplink', title: 'Uplink', testId: 'topo-uplink',
    lines: [{ k: 'NAT', v: 'QEMU user-mode → outside' }, { k: 'guest', v: '10.0.2.15/24', mono: true }],
  }));
  edges.push({ id: 'host-uplink', source: 'host', target: 'uplink' });

  nodes.push(node('privnet', {
    kind: 'privnet', title: 'Private network', testId: 'topo-privnet',
    lines: net
      ? [{ k: 'subnet', v: net.subnet, mono: true }, { k: 'dhcp', v: `${net.dhcpStart}–${net.dhcpEnd.split('.').pop()}`, mono: true }]
      : [{ k: 'subnet', v: '…' }],
  }));
  edges.push({ id: 'netsvc-privnet', source: 'netsvc', target: 'privnet' });

  const prov = vms.find((v) => v.role === 'provisioner');
  if (prov) {
    const id = vmNodeId(prov.name);
    const lines: TopoLine[] = [
      { k: 'private', v: `${prov.mac}  ${prov.privateIp ?? ''}`.trim(), mono: true, testId: 'topo-private-nic' },
      { k: 'uplink', v: prov.uplinkMac ?? '—', mono: true },
      { k: 'ssh', v: prov.sshPort ? `127.0.0.1:${prov.sshPort} → :22` : '—', mono: true, testId: 'topo-ssh-forward' },
    ];
    const headerHeight = boxHeight(lines.length) + 6;
    nodes.push({
      id, width: 2 * CHILD_W + 40 + 24, height: headerHeight + 56 + 12, headerHeight,
      data: { kind: 'provisioner', title: prov.name, status: prov.status, lines, href: `/vms/${prov.name}`, vm: prov.name, testId: 'topo-vm' },
    });
    const off = prov.status !== 'running';
    const dockerState = off ? 'stopped' : docker?.docker ?? 'unknown';
    const pxeState = off ? 'stopped' : docker?.pxeboot ?? 'unknown';
    nodes.push({ id: 'docker', parentId: id, width: CHILD_W, height: 56, data: { kind: 'docker', title: 'Docker', status: dockerState, lines: [{ k: 'engine', v: dockerState }], testId: 'topo-docker' } });
    nodes.push({ id: 'pxeboot', parentId: id, width: CHILD_W, height: 56, data: { kind: 'pxeboot', title: 'pxeboot', status: pxeState, lines: [{ k: 'state', v: !off && docker?.detail && docker.detail !== pxeState ? `${pxeState} · ${docker.detail}` : pxeState }], testId: 'topo-pxeboot' } });
    edges.push({ id: 'docker-pxeboot', source: 'docker', target: 'pxeboot' });
    edges.push({ id: 'uplink-prov', source: 'uplink', target: id });
    edges.push({ id: 'prov-privnet', source: id, target: 'privnet' });
  } else {
    nodes.push(node('noprov', {
      kind: 'placeholder', title: 'No provisioner yet', testId: 'topo-no-provisioner',
      lines: [{ k: '', v: 'create one to serve PXE' }],
    }));
    edges.push({ id: 'uplink-noprov', source: 'uplink', target: 'noprov' });
    edges.push({ id: 'noprov-privnet', source: 'noprov', target: 'privnet' });
  }

  for (const t of vms.filter((v) => v.role === 'target')) {
    const id = vmNodeId(t.name);
    nodes.push(node(id, {
      kind: 'target', title: t.name, status: t.status, href: `/vms/${t.name}`, vm: t.name, testId: 'topo-vm',
      lines: [
        { k: 'mac', v: t.mac, mono: true },
        { k: 'ip', v: t.privateIp ?? 'DHCP', mono: true },
        { k: 'boot', v: `${t.boot} · ${t.arch}`, mono: true },
      ],
    }));
    edges.push({ id: `privnet-${id}`, source: 'privnet', target: id });
  }
  return { nodes, edges };
}

/** What the layout depends on: node ids, sizes, nesting and edges — not status or addresses. */
export function layoutKey(g: TopoGraph): string {
  return JSON.stringify([g.nodes.map((n) => [n.id, n.width, n.height, n.parentId ?? '']), g.edges.map((e) => [e.source, e.target])]);
}
