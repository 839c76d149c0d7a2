// Run commands on the provisioner over SSH (argv arrays, quoted for the remote shell; never user strings).
import { execa, type ResultPromise } from 'execa';

/** Quote one word for a POSIX shell. */
export function shq(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function remoteCommand(argv: string[]): string {
  return argv.map(shq).join(' ');
}

export interface RemoteOptions { input?: NodeJS.ReadableStream | string; timeoutMs?: number; signal?: AbortSignal; sudo?: boolean }

export type SshArgv = (name: string, command?: string[]) => string[];

export class RemoteError extends Error {
  constructor(message: string, readonly exitCode: number | undefined, readonly stderr: string) { super(message); }
}

export class Remote {
  constructor(private sshArgv: SshArgv, private vm: string) {}

  argv(cmd: string[], sudo = false): string[] {
    const base = this.sshArgv(this.vm);
    const [ssh, ...rest] = base;
    const host = rest.pop()!;
    return [ssh, ...rest, '-o', 'BatchMode=yes', host, remoteCommand(sudo ? ['sudo', '-n', ...cmd] : cmd)];
  }

  /** Run and return stdout; throws RemoteError with the last stderr lines on failure. */
  run(cmd: string[], opts: RemoteOptions = {}): Promise<string> {
    return this.spawn(cmd, opts).done;
  }

  /** Run; resolve with the exit code (no throw on non-zero). */
  async code(cmd: string[], opts: RemoteOptions = {}): Promise<{ code: number; stdout: string; stderr: string }> {
    const [c, ...args] = this.argv(cmd, opts.sudo);
    const r = await execa(c, args, { reject: false, timeout: opts.timeoutMs ?? 60_000, cancelSignal: opts.signal, input: typeof opts.input === 'string' ? opts.input : undefined });
    return { code: r.exitCode ?? 255, stdout: String(r.stdout), stderr: String(r.stderr) };
  }

  /** Start a command: `proc` for its output streams, `done` for its stdout (or a RemoteError). */
  spawn(cmd: string[], opts: RemoteOptions = {}): { proc: ResultPromise; done: Promise<string> } {
    const [c, ...args] = this.argv(cmd, opts.sudo);
    const proc = execa(c, args, {
      timeout: opts.timeoutMs ?? 60_000, cancelSignal: opts.signal,
      ...(typeof opts.input === 'string' ? { input: opts.input } : opts.input ? { stdin: 'pipe' as const } : {}),
    });
    if (opts.input && typeof opts.input !== 'string') (opts.input as NodeJS.ReadableStream).pipe(proc.stdin!);
    const done = proc.then((r) => String(r.stdout), (e: { exitCode?: number; stderr?: string; shortMessage?: string }) => {
      const tail = String(e.stderr ?? '').trim().split('\n').slice(-5).join('\n');
      throw new RemoteError(`on ${this.vm}: \`${cmd.join(' ')}\` failed${e.exitCode !== undefined ? ` (exit ${e.exitCode})` : ''}: ${tail || e.shortMessage}`, e.exitCode, String(e.stderr ?? ''));
    });
    return { proc, done };
  }
}
