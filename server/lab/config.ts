// The lab's own configuration (configs/lab.json): network backend, subnet, multicast group. Created once.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { z } from 'zod';
import { writeFileAtomic, type LabHome } from './home.ts';
import { cidr, ipv4 } from './spec.ts';
import { accelMode, cpuModel } from './accel/choose.ts';
import { planProblems } from './addressing.ts';
import { MAX_SOCKET_PATH } from './rundir.ts';

export const labConfigSchema = z.object({
  version: z.literal(1),
  /** The accelerator override for every VM of the lab (auto = the doctor's probe), with an optional `-cpu`. */
  accelerator: z.object({ mode: accelMode, cpu: cpuModel.nullable().default(null) }).default({ mode: 'auto', cpu: null }),
  network: z.object({
    backend: z.enum(['userspace', 'socket_vmnet']),
    subnet: cidr,
    provisionerIp: ipv4,
    dhcpStart: ipv4,
    dhcpEnd: ipv4,
    /** IPv6 ULA prefix on the private network: router advertisements end iPXE's IPv6 wait in ~3 s instead of ~16 s. */
    ula: z.string().regex(/^[0-9a-f:]+::\/64$/).default('fd70:766d:6c61::/64'),
    /** userspace backend: every VM of this lab joins this multicast group on loopback. */
    mcast: z.object({ group: ipv4, port: z.number().int().min(1024).max(65535) }),
    /** socket_vmnet backend (macOS). */
    socketVmnet: z.object({
      socketPath: z.string().refine((p) => p.startsWith('/') && Buffer.byteLength(p) <= MAX_SOCKET_PATH,
        `use an absolute path of at most ${MAX_SOCKET_PATH} bytes (the Unix socket limit)`),
      networkId: z.string().uuid(),
    }),
  }).superRefine((n, ctx) => {
    // The one address plan (addressing.ts) must itself be sound: every other address check builds on it.
    for (const p of planProblems(n)) ctx.addIssue({ code: 'custom', path: [p.split(':')[0]], message: p });
  }),
});
export type LabConfig = z.infer<typeof labConfigSchema>;

/** A fresh config: a random group in 239.255.0.0/16 (organisation-local scope) and a random port. */
export function newLabConfig(platform: NodeJS.Platform = process.platform, rand: (n: number) => number = crypto.randomInt): LabConfig {
  return {
    version: 1,
    accelerator: { mode: 'auto', cpu: null },
    network: {
      backend: platform === 'darwin' ? 'socket_vmnet' : 'userspace',
      subnet: '192.168.100.0/24',
      provisionerIp: '192.168.100.1',
      dhcpStart: '192.168.100.100',
      dhcpEnd: '192.168.100.200',
      ula: 'fd70:766d:6c61::/64',
      mcast: { group: `239.255.${rand(256)}.${1 + rand(254)}`, port: 20000 + rand(20000) },
      socketVmnet: { socketPath: '/var/run/pvmlab_socket_vmnet', networkId: crypto.randomUUID() },
    },
  };
}

export function loadLabConfig(home: LabHome): LabConfig {
  const raw = fs.readFileSync(home.labConfig, { encoding: 'utf8', flag: 'r' }) as string | undefined;
  return labConfigSchema.parse(JSON.parse(raw ?? '{}'));
}

/** Change the lab config atomically (read, apply, validate, write). */
export function updateLabConfig(home: LabHome, change: (c: LabConfig) => LabConfig): LabConfig {
  const next = labConfigSchema.parse(change(ensureLabConfig(home)));
  writeFileAtomic(home.labConfig, JSON.stringify(next, null, 2) + '\n');
  return next;
}

/** Read the lab config, creating it the first time. */
export function ensureLabConfig(home: LabHome): LabConfig {
  if (fs.existsSync(home.labConfig)) return loadLabConfig(home);
  const cfg = newLabConfig();
  writeFileAtomic(home.labConfig, JSON.stringify(cfg, null, 2) + '\n');
  return cfg;
}
