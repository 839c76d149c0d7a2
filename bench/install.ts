// Bench (issue 15): install to disk of a 1 GiB raw image over HTTP, against plain downloads of the same file.
//   curl (in the provisioner)  curl -o /dev/null http://<provisioner>/artifacts/<image> on the provisioner itself:
//                              what nginx serves with no network in between (the stack's ceiling)
//   wget (in the target)       busybox wget -O /dev/null from the live environment over the lab network: the
//                              network path alone (no hashing, no disk)
//   install                    the live installer: verify (sha256 before any write) and write phases from its
//                              PVMLAB-INSTALL marker, per mode — `ram` (the image fits in RAM: one download) and
//                              `stream` (it does not: hashed on one pass, written on a second, hashed again)
// Run: npx tsx bench/install.ts   (SIZE_MIB=1024; PVMLAB_HOME=<a lab that is up> reuses it, else a temp lab is
// brought up with `pvmlab up --image offline` and cleaned afterwards). Writes bench/results/install.json.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { LabHome } from '../server/lab/home.ts';
import { Lab } from '../server/lab/lab.ts';
import { testGuest, until } from '../server/lab/testing/guests.ts';
import { accelLabels } from './accel.ts';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const SIZE_MIB = Number(process.env.SIZE_MIB ?? 1024);
const MiB = 1024 * 1024;
const BIN = path.join(ROOT, 'bin/pvmlab.mjs');

async function main() {
  fs.mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
  const own = !process.env.PVMLAB_HOME;
  const home = process.env.PVMLAB_HOME ?? fs.mkdtempSync(path.join(os.tmpdir(), 'pvb-'));
  const pvmlab = (...args: string[]) => execa('node', [BIN, ...args], { env: { ...process.env, PVMLAB_HOME: home }, timeout: 3_600_000 });
  if (own) { console.log(`pvmlab up on ${home} …`); await pvmlab('up', '--image', 'offline'); }
  const lab = await Lab.open(new LabHome(home));
  lab.watch();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'pvb-img-'));
  const out: Record<string, unknown> = { date: new Date().toISOString(), sizeMiB: SIZE_MIB, loadavg: os.loadavg(), cpus: os.cpus().length, ...(await accelLabels()) };
  try {
    const guest = await testGuest('x86_64');
    const file = path.join(work, 'bench-disk.raw');
    await execa(path.join(ROOT, 'scripts/build-disk-image.sh'), [guest.dir, file, 'disk-boot', String(SIZE_MIB)]);
    let t = performance.now();
    const up = await lab.uploadDiskImage(file, 'bench-disk.raw');
    out.uploadMBps = +(up.size / MiB / ((performance.now() - t) / 1000)).toFixed(1);
    console.log(`upload ${SIZE_MIB} MiB host → provisioner (ssh): ${out.uploadMBps} MiB/s`);

    const prov = lab.provisioner.remote();
    const curl = await prov.run(['curl', '-s', '-o', '/dev/null', '-w', '%{size_download} %{time_total}', `http://${lab.config().network.provisionerIp}/artifacts/bench-disk.raw`], { timeoutMs: 600_000 });
    const [bytes, secs] = curl.trim().split(' ').map(Number);
    out.curlInProvisionerMBps = +(bytes / MiB / secs).toFixed(1);
    console.log(`curl in the provisioner (loopback, nginx): ${out.curlInProvisionerMBps} MiB/s`);

    const runs: Record<string, unknown>[] = [];
    for (const [mode, memory] of [['stream', '512M'], ['ram', `${SIZE_MIB + 512}M`]] as const) {
      const name = `bench-${mode}`;
      if (lab.listVmsNow().some((v) => v.name === name)) await lab.cleanVm(name);
      await lab.createVm({ name, boot: 'pxe', memory, diskSize: `${SIZE_MIB + 1024}M`, sshUser: 'root' });
      const r = lab.reservations().find((x) => x.mac === lab.vms.get(name).mac)!;
      await lab.setInstallProfile(r.mac, { kind: 'image', image: 'bench-disk.raw', sha256: up.sha256 });
      t = performance.now();
      await lab.startVm(name);
      const log = () => lab.consoleLog(name, 0, 16 << 20).data;
      const m = await until(`${name} installed`, () => log().match(/PVMLAB-INSTALL ok sha256=\S+ bytes=(\d+) mode=(\w+) verify_ms=(\d+) write_ms=(\d+)/) ?? (/PVMLAB-INSTALL failed.*/.exec(log()) ? (() => { throw new Error(log().split('\n').slice(-10).join('\n')); })() : null), 1_800_000, 500);
      const installedAt = performance.now() - t;
      await until(`${name} boots from its disk`, () => /PVMLAB-GUEST-READY hostname=disk-boot/.test(log()), 600_000, 500);
      const diskBootAt = performance.now() - t;
      // The network path alone: busybox wget in the target (now running from its disk) to /dev/null.
      const argv = lab.sshArgv(name, [`t0=$(cut -d' ' -f1 /proc/uptime); wget -q -O /dev/null http://${lab.config().network.provisionerIp}/artifacts/bench-disk.raw; t1=$(cut -d' ' -f1 /proc/uptime); echo "$t0 $t1"`]);
      const w = await until(`ssh ${name}`, async () => { const x = await execa(argv[0], argv.slice(1), { reject: false, timeout: 900_000 }); return x.exitCode === 0 ? x.stdout.trim() : null; }, 300_000, 3000);
      const [w0, w1] = w.split(/\s+/).map(Number);
      const size = Number(m[1]);
      const run = {
        mode: m[2], memory, verifySeconds: Number(m[3]) / 1000, writeSeconds: Number(m[4]) / 1000,
        verifyMBps: +(size / MiB / (Number(m[3]) / 1000)).toFixed(1),
        writeMBps: +(size / MiB / (Number(m[4]) / 1000)).toFixed(1),
        installMBps: +(size / MiB / ((Number(m[3]) + Number(m[4])) / 1000)).toFixed(1),
        wgetInTargetMBps: +(size / MiB / (w1 - w0)).toFixed(1),
        powerOnToInstalledSeconds: +(installedAt / 1000).toFixed(1), powerOnToDiskBootSeconds: +(diskBootAt / 1000).toFixed(1),
      };
      runs.push(run);
      console.log(`${name}: ${JSON.stringify(run)}`);
      await lab.cleanVm(name);
    }
    out.runs = runs;
    out.loadavgAfter = os.loadavg();
    fs.writeFileSync(path.join(ROOT, 'bench/results/install.json'), JSON.stringify(out, null, 2) + '\n');
    console.log(JSON.stringify(out, null, 2));
  } finally {
    await lab.removeArtifact('bench-disk.raw').catch(() => {});
    fs.rmSync(work, { recursive: true, force: true });
    if (own) { await pvmlab('clean').catch(() => {}); fs.rmSync(home, { recursive: true, force: true }); }
    await lab.close();
  }
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
