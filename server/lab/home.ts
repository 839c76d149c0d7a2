// The lab home: the one place that knows every path of the artifacts directory.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { HOME_DIRS, HOME_MARKER, checkHomeRoot, type HomeDir } from './home-guard.ts';
import { checkSocketPath, ensureRunDir, runDirFor, SSH_CONTROL_NAME, SSH_TEMP_SUFFIX } from './rundir.ts';


export function defaultHomePath(env: Record<string, string | undefined> = process.env): string {
  const fromEnv = env.PVMLAB_HOME?.trim();
  return path.resolve(fromEnv ? fromEnv : path.join(os.homedir(), '.provisioning-vm-lab'));
}

export class LabHome {
  readonly root: string;
  /** The short per-lab directory of every Unix socket (see rundir.ts): fits wherever the home is. */
  readonly runDir: string;
  constructor(root: string = defaultHomePath(), runDir?: string) {
    this.root = path.resolve(root);
    this.runDir = runDir ?? runDirFor(this.root);
  }

  dir(d: HomeDir): string {
    return path.join(this.root, d);
  }

  /** Resolve a path under the home and refuse anything that escapes it. */
  inside(...parts: string[]): string {
    const p = path.resolve(this.root, ...parts);
    if (p !== this.root && !p.startsWith(this.root + path.sep)) {
      throw new Error(`path escapes the lab home: ${parts.join('/')}`);
    }
    return p;
  }

  get privateKey(): string { return path.join(this.dir('ssh'), 'id_ed25519'); }
  get publicKey(): string { return this.privateKey + '.pub'; }
  get knownHosts(): string { return path.join(this.dir('ssh'), 'known_hosts'); }
  get labConfig(): string { return path.join(this.dir('configs'), 'lab.json'); }
  get lockDir(): string { return path.join(this.dir('vms'), '.locks'); }

  vmRecord(name: string): string { return this.inside('vms', `${name}.json`); }
  vmLock(name: string): string { return this.inside('vms', '.locks', `${name}.lock`); }
  vmLog(name: string): string { return this.inside('logs', `${name}.log`); }
  /** When each byte of the console log arrived (timeline/console-clock.ts). */
  vmTimes(name: string): string { return this.inside('logs', `${name}.times`); }
  vmPid(name: string): string { return this.inside('pids', `${name}.pid`); }
  vmQmp(name: string): string { return this.socketPath(name, 'qmp'); }
  vmSerial(name: string): string { return this.socketPath(name, 'serial'); }
  vmEvents(name: string): string { return this.socketPath(name, 'events'); }
  /** OpenSSH's ControlPath (a pattern: ssh expands %C); fits with the temporary name ssh binds first. */
  get sshControlPath(): string {
    checkSocketPath(path.join(this.runDir, SSH_CONTROL_NAME.replace('%C', 'x'.repeat(40))), SSH_TEMP_SUFFIX);
    return path.join(this.runDir, SSH_CONTROL_NAME);
  }
  vmSeedIso(name: string): string { return this.inside('configs', `${name}.iso`); }
  vmDisk(name: string): string { return this.inside('images', `vm-${name}.qcow2`); }
  vmVars(name: string): string { return this.inside('images', `vm-${name}-efivars.fd`); }
  /** Every file a VM owns, for clean. */
  vmFiles(name: string): string[] {
    return [this.vmRecord(name), this.vmLog(name), this.vmPid(name), this.vmQmp(name), this.vmSerial(name), this.vmEvents(name),
      this.vmSeedIso(name), this.vmDisk(name), this.vmVars(name), this.vmLock(name), this.vmTimes(name)];
  }

  private socketPath(name: string, kind: 'qmp' | 'serial' | 'events'): string {
    if (!/^[a-z][a-z0-9-]{0,31}$/.test(name)) throw new Error(`bad VM name for a socket: ${JSON.stringify(name)}`);
    return checkSocketPath(path.join(this.runDir, `${name}.${kind}`));
  }
}

export interface HomeInfo {
  path: string;
  /** Where the lab's Unix sockets live (short, per lab; rundir.ts). */
  runDir: string;
  created: boolean;
  publicKey: string;
  keyCreated: boolean;
  freeBytes: number;
  totalBytes: number;
}

/** Create the layout (idempotent) and the lab key pair (never overwritten). */
export async function ensureHome(home: LabHome): Promise<HomeInfo> {
  const created = !fs.existsSync(home.root);
  checkHomeRoot(home.root); // only pvmlab's own entries, owned by us, no symlinked folders (home-guard.ts)
  fs.mkdirSync(home.root, { recursive: true, mode: 0o700 });
  fs.chmodSync(home.root, 0o700);
  if (!fs.existsSync(path.join(home.root, HOME_MARKER))) fs.writeFileSync(path.join(home.root, HOME_MARKER), 'pvmlab lab home: every entry here is pvmlab\'s\n', { mode: 0o600 });
  for (const d of HOME_DIRS) fs.mkdirSync(home.dir(d), { recursive: true, mode: 0o755 });
  fs.mkdirSync(home.lockDir, { recursive: true });
  fs.chmodSync(home.dir('ssh'), 0o700);
  ensureRunDir(home.runDir);
  const keyCreated = await ensureKeyPair(home);
  fs.chmodSync(home.privateKey, 0o600);
  const st = fs.statfsSync(home.root);
  return {
    path: home.root,
    runDir: home.runDir,
    created,
    publicKey: fs.readFileSync(home.publicKey, 'utf8').trim(),
    keyCreated,
    freeBytes: st.bavail * st.bsize,
    totalBytes: st.blocks * st.bsize,
  };
}

async function ensureKeyPair(home: LabHome): Promise<boolean> {
  if (fs.existsSync(home.privateKey)) {
    fs.chmodSync(home.privateKey, 0o600);
    if (!fs.existsSync(home.publicKey)) {
      const { stdout } = await execa('ssh-keygen', ['-y', '-f', home.privateKey]);
      writeFileAtomic(home.publicKey, stdout.trim() + '\n', 0o644);
    }
    return false;
  }
  // Generate in a private temp dir inside ssh/, then rename both files into place.
  const tmp = fs.mkdtempSync(path.join(home.dir('ssh'), '.keygen-'));
  try {
    const tmpKey = path.join(tmp, 'id_ed25519');
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'pvmlab', '-f', tmpKey]);
    fs.renameSync(tmpKey + '.pub', home.publicKey);
    fs.renameSync(tmpKey, home.privateKey);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return true;
}

/** Atomic write: temp file in the same dir, fsync, rename, fsync the dir. */
export function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o644): void {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  const fd = fs.openSync(tmp, 'wx', mode);
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  const dfd = fs.openSync(dir, 'r');
  try { fs.fsyncSync(dfd); } finally { fs.closeSync(dfd); }
}
