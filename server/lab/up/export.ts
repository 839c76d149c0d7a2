// `pvmlab export`: the lab as it is, written as a lab.yaml that `pvmlab up` turns back into the same VMs,
// MACs, reservations and profiles (export → clean → up). Pure renderer + a thin reader of the lab.
import path from 'node:path';
import { stringify } from 'yaml';
import type { LabConfig } from '../config.ts';
import type { BootProfile, Reservation } from '../provisioner/pxe.ts';
import type { VmRecord } from '../spec.ts';
import type { Lab } from '../lab.ts';
import { catalogueOf } from './catalogue.ts';

export interface ExportInput {
  cfg: LabConfig;
  vms: VmRecord[];
  reservations: Reservation[];
  /** name → sha256 of what the provisioner serves (null: unknown, the provisioner is not running). */
  artifacts: Record<string, string> | null;
  /** The offline image cache (…/.cache/pvmlab/images): a provisioner image from there exports as `offline`. */
  offlineImageDir: string;
}

function imageOf(rec: VmRecord, offlineDir: string): string {
  if (!rec.image) return 'auto';
  if (rec.image.startsWith(offlineDir + path.sep)) return 'offline';
  if (/noble-server-cloudimg-(amd64|arm64)\.img$/.test(rec.image)) return 'ubuntu-24.04';
  return rec.image;
}

const profileDoc = (p: BootProfile) => (p.kind === 'script' ? { script: p.script } : p.kind === 'kernel' ? { kernel: p.kernel, ...(p.initrd ? { initrd: p.initrd } : {}), cmdline: p.cmdline } : null);

/** The lab file text (pure). Throws when a profile names artifacts whose sha256 cannot be known. */
export function renderLabFile(x: ExportInput): string {
  const prov = x.vms.find((v) => v.role === 'provisioner');
  const byMac = new Map(x.reservations.map((r) => [r.mac, r]));
  const profiles: Record<string, object> = {};
  const used = new Set<string>();
  const ref = (p: BootProfile, name: string): string => {
    if (p.kind === 'exit') return 'none';
    const entry = catalogueOf(p);
    if (entry) return entry;
    profiles[name] = profileDoc(p)!;
    if (p.kind === 'kernel') { used.add(p.kernel); if (p.initrd) used.add(p.initrd); }
    return name;
  };
  const skipped: string[] = [];
  const targets = x.vms.filter((v) => v.role === 'target').flatMap((v) => {
    if (v.boot !== 'pxe') { skipped.push(v.name); return []; }
    const r = byMac.get(v.mac);
    return [{ name: v.name, arch: v.arch, mac: v.mac, ...(r ? { ip: r.ip } : {}), memory: `${v.memoryMiB}M`, profile: r ? ref(r.profile, v.name) : 'none', sshUser: v.sshUser,
      // only what differs from the defaults, so a BIOS lab's file reads as before
      ...(v.arch === 'x86_64' && v.firmware === 'uefi' ? { firmware: 'uefi' as const } : {}), ...(v.secureBoot ? { secureBoot: true } : {}), ...(v.netboot === 'http' ? { netboot: 'http' as const } : {}) }];
  });
  const vmMacs = new Set(x.vms.map((v) => v.mac));
  const reservations = x.reservations.filter((r) => !vmMacs.has(r.mac)).map((r) => ({ mac: r.mac, ip: r.ip, hostname: r.hostname, profile: ref(r.profile, r.hostname) }));
  const artifacts = [...used].sort().map((name) => {
    const sha = x.artifacts?.[name];
    if (!sha) throw new Error(x.artifacts ? `export: the profiles name artifact '${name}', which the provisioner does not serve: upload it, or change the profile` : 'export: the profiles name artifacts and the provisioner is not running, so their sha256 cannot be read: pvmlab up first');
    return { name, sha256: sha };
  });
  const doc = {
    version: 1,
    network: { subnet: x.cfg.network.subnet, dhcpRange: [x.cfg.network.dhcpStart, x.cfg.network.dhcpEnd] },
    ...(prov ? { provisioner: { name: prov.name, arch: prov.arch, image: imageOf(prov, x.offlineImageDir), cpus: prov.cpus, memory: `${prov.memoryMiB}M` } } : {}),
    targets, reservations, profiles, artifacts,
  };
  const head = ['# pvmlab lab file (pvmlab export). pvmlab up lab.yaml / pvmlab apply lab.yaml [--prune] converge a lab to it.',
    '# Artifacts without path: must already be on the provisioner with that sha256; add path: to upload them.',
    ...(skipped.length ? [`# Not exported (only PXE targets can be described here yet): ${skipped.join(', ')}`] : [])];
  return `${head.join('\n')}\n${stringify(doc, { lineWidth: 0 })}`;
}

/** Read the lab (artifacts only when the provisioner runs) and render it. */
export async function exportLab(lab: Lab, offlineImageDir: string): Promise<string> {
  const vms = lab.vms.list();
  const running = vms.some((v) => v.role === 'provisioner' && v.status === 'running');
  const artifacts = running ? Object.fromEntries((await lab.provisioner.artifacts()).map((a) => [a.name, a.sha256])) : null;
  return renderLabFile({ cfg: lab.vms.config(), vms, reservations: lab.provisioner.reservations(), artifacts, offlineImageDir });
}
