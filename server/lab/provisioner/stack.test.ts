import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { newLabConfig } from '../config.ts';
import { PXE_DIR, planDockerBuild, planDockerRun, planPxePublish, stackFiles, stackHash } from './stack.ts';
import { provisionerCloudInit } from './cloudinit.ts';
import { remoteCommand, shq } from './remote.ts';

const cfg = newLabConfig('linux', () => 1);

describe('pxeboot stack plans', () => {
  it('docker run: host network, only the capabilities it needs, never privileged, restarts on its own', () => {
    const argv = planDockerRun(cfg);
    expect(argv.slice(0, 8)).toEqual(['docker', 'run', '-d', '--name', 'pxeboot', '--network', 'host', '--cap-add']);
    expect(argv).not.toContain('--privileged');
    const caps = argv.flatMap((a, i) => (argv[i - 1] === '--cap-add' ? [a] : []));
    expect(caps).toEqual(['NET_ADMIN', 'NET_BIND_SERVICE', 'NET_RAW']);
    expect(argv).toEqual(expect.arrayContaining(['--restart', 'unless-stopped', '-v', '/var/lib/pvmlab/pxe:/pxe', '-e', 'PXE_INTERFACE=priv0',
      '-e', 'PXE_SERVER_IP=192.168.100.1', '-e', 'PXE_SUBNET=192.168.100.0/24', '-e', 'PXE_RANGE_START=192.168.100.100', '-e', 'PXE_RANGE_END=192.168.100.200']));
    expect(argv.at(-1)).toBe('pvmlab/pxeboot:latest');
  });
  it('docker build takes the base as a build arg and labels the source hash', () => {
    expect(planDockerBuild('pvmlab/pxeboot-base:bookworm', 'abc')).toEqual(['env', 'DOCKER_BUILDKIT=1', 'docker', 'build', '--network', 'none', '--build-arg', 'BASE_IMAGE=pvmlab/pxeboot-base:bookworm',
      '--label', 'pvmlab.stack-hash=abc', '-t', 'pvmlab/pxeboot:latest', '/opt/pvmlab/pxeboot_stack']);
  });
  it('the stack source: Dockerfile in, tests out; the hash is stable', () => {
    expect(stackFiles()).toContain('Dockerfile');
    expect(stackFiles().some((f) => f.startsWith('test/'))).toBe(false);
    expect(stackHash()).toBe(stackHash());
    expect(stackHash()).toMatch(/^[0-9a-f]{16}$/);
  });
  it('the provisioner cloud-init turns on NAT and Docker', () => {
    const x = provisionerCloudInit(cfg);
    expect(x.natEnv).toBe('PRIVATE_CIDR=192.168.100.0/24\nPRIVATE_IF=priv0\nUPLINK_IF=uplink0\n');
    expect(x.extraWriteFiles?.map((f) => f.path)).toEqual(['/usr/local/sbin/pvmlab-nat', '/etc/systemd/system/pvmlab-nat.service']);
    expect(x.extraRuncmd).toContainEqual(['systemctl', 'enable', '--now', 'pvmlab-nat.service']);
  });
  it('remote commands are quoted word by word', () => {
    expect(shq('a b')).toBe("'a b'");
    expect(shq("it's")).toBe("'it'\\''s'");
    expect(remoteCommand(['docker', 'inspect', '-f', '{{.State.Status}}|x', 'pxeboot'])).toBe("docker inspect -f '{{.State.Status}}|x' pxeboot");
    expect(remoteCommand(['echo', '$(id)', '`x`', ';rm'])).toBe("echo '$(id)' '`x`' ';rm'");
  });
});

describe('publishing PXE files (planPxePublish)', () => {
  it('writes every file as given, removes per-MAC scripts no longer rendered, then SIGHUPs dnsmasq', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pvmlab-pub-'));
    try {
      const pxe = path.join(dir, 'pxe');
      fs.mkdirSync(path.join(pxe, 'http/ipxe'), { recursive: true });
      fs.mkdirSync(path.join(pxe, 'tftp/grub'), { recursive: true });
      for (const f of ['http/ipxe/52:54:00:00:00:09', 'tftp/grub/grub.cfg-01-52-54-00-00-00-09', 'http/ipxe/default', 'tftp/grub/grub.cfg']) fs.writeFileSync(path.join(pxe, f), 'old');
      fs.mkdirSync(path.join(dir, 'bin'));
      fs.writeFileSync(path.join(dir, 'bin/docker'), `#!/bin/sh\necho "$@" >${dir}/docker.args\n`, { mode: 0o755 });
      const nasty = `#!ipxe\necho '$(touch ${dir}/pwned)' "\`id\`" EOF\n\u00e9\n`;
      const script = planPxePublish([
        { rel: 'dnsmasq/reservations', content: '52:54:00:00:00:01,192.168.100.20,pxe1\n' },
        { rel: 'http/ipxe/52:54:00:00:00:01', content: nasty },
        { rel: 'tftp/grub/grub.cfg-01-52-54-00-00-00-01', content: 'set timeout=0\n' },
      ]).replace(`D=${PXE_DIR}`, `D=${pxe}`);
      execFileSync('sh', ['-s'], { input: script, env: { ...process.env, PATH: `${dir}/bin:/usr/bin:/bin` } });
      expect(fs.readFileSync(path.join(pxe, 'http/ipxe/52:54:00:00:00:01'), 'utf8')).toBe(nasty);
      expect(fs.readFileSync(path.join(pxe, 'dnsmasq/reservations'), 'utf8')).toBe('52:54:00:00:00:01,192.168.100.20,pxe1\n');
      expect(fs.existsSync(path.join(pxe, 'http/ipxe/52:54:00:00:00:09'))).toBe(false);
      expect(fs.existsSync(path.join(pxe, 'tftp/grub/grub.cfg-01-52-54-00-00-00-09'))).toBe(false);
      expect(fs.readFileSync(path.join(pxe, 'http/ipxe/default'), 'utf8')).toBe('old'); // not per-MAC: kept
      expect(fs.readFileSync(path.join(pxe, 'tftp/grub/grub.cfg'), 'utf8')).toBe('old');
      expect(fs.existsSync(path.join(dir, 'pwned'))).toBe(false);
      expect(fs.readFileSync(path.join(dir, 'docker.args'), 'utf8').trim()).toBe('kill -s HUP pxeboot');
      expect(fs.readdirSync(path.join(pxe, 'http/ipxe')).filter((f) => f.startsWith('.'))).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  it("keeps a target's boot-from-disk file the stack put in place for an install when the host renders that same install again; a new install replaces it", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pvmlab-pub-'));
    try {
      const pxe = path.join(dir, 'pxe');
      fs.mkdirSync(path.join(pxe, 'http/ipxe'), { recursive: true });
      fs.mkdirSync(path.join(dir, 'bin'));
      fs.writeFileSync(path.join(dir, 'bin/docker'), '#!/bin/sh\n', { mode: 0o755 });
      const f = path.join(pxe, 'http/ipxe/52:54:00:00:00:01');
      const local = '#!ipxe\n# pvmlab-local-boot abc123\necho pvmlab: t1 was installed: booting from its disk\nsanboot --no-describe --drive 0x80\n';
      const publish = (content: string) => execFileSync('sh', ['-s'], { input: planPxePublish([{ rel: 'http/ipxe/52:54:00:00:00:01', content }]).replace(`D=${PXE_DIR}`, `D=${pxe}`), env: { ...process.env, PATH: `${dir}/bin:/usr/bin:/bin` } });
      fs.writeFileSync(f, local);
      publish('#!ipxe\nkernel http://x/k pvmlab.installid=abc123\nboot\n'); // the installer of the install that just finished
      expect(fs.readFileSync(f, 'utf8')).toBe(local);
      publish('#!ipxe\nkernel http://x/k pvmlab.installid=def456\nboot\n'); // re-provisioned: a new install
      expect(fs.readFileSync(f, 'utf8')).toBe('#!ipxe\nkernel http://x/k pvmlab.installid=def456\nboot\n');
      fs.writeFileSync(f, local);
      publish('#!ipxe\necho another profile\n'); // a profile without that install
      expect(fs.readFileSync(f, 'utf8')).toBe('#!ipxe\necho another profile\n');
      expect(fs.readdirSync(path.join(pxe, 'http/ipxe')).filter((x) => x.startsWith('.'))).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  it('refuses paths that could leave the PXE directory', () => {
    expect(() => planPxePublish([{ rel: '../etc/passwd', content: '' }])).toThrow(/not a PXE file path/);
    expect(() => planPxePublish([{ rel: 'http/$(id)', content: '' }])).toThrow(/not a PXE file path/);
  });
});
