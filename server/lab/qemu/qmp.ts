// A small QMP client: connect, negotiate, execute commands, receive events, notice the socket closing.
import net from 'node:net';
import { EventEmitter } from 'node:events';

export interface QmpEvent { event: string; data?: Record<string, unknown>; timestamp?: { seconds: number; microseconds: number } }

export class QmpError extends Error {}

export class QmpClient extends EventEmitter<{ event: [QmpEvent]; close: [] }> {
  private buf = '';
  private pending: { resolve: (v: unknown) => void; reject: (e: Error) => void }[] = [];
  private closed = false;

  private constructor(private sock: net.Socket) {
    super();
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => this.onData(d));
    sock.on('close', () => this.onClose());
    sock.on('error', () => { /* close follows */ });
  }

  /** Connect and negotiate capabilities. Rejects within timeoutMs if QEMU does not greet or answer. */
  static async connect(path: string, timeoutMs = 3000): Promise<QmpClient> {
    const sock = net.createConnection(path);
    const client = new QmpClient(sock);
    let waitingFor = 'greet';
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => { sock.destroy(); reject(new QmpError(`QMP at ${path} did not ${waitingFor} within ${timeoutMs} ms`)); }, timeoutMs);
    });
    const greeting = new Promise<void>((resolve, reject) => {
      sock.once('error', (e) => reject(new QmpError(`cannot connect to QMP at ${path}: ${e.message}`)));
      client.pending.push({ resolve: () => resolve(), reject });
    });
    try {
      await Promise.race([greeting, deadline]);
      waitingFor = 'answer qmp_capabilities';
      await Promise.race([client.execute('qmp_capabilities'), deadline]);
    } catch (e) {
      sock.destroy();
      throw e;
    } finally {
      clearTimeout(timer);
    }
    return client;
  }

  get isClosed(): boolean { return this.closed; }

  execute<T = unknown>(command: string, args?: Record<string, unknown>): Promise<T> {
    if (this.closed) return Promise.reject(new QmpError('QMP connection is closed'));
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ resolve: resolve as (v: unknown) => void, reject });
      this.sock.write(JSON.stringify(args ? { execute: command, arguments: args } : { execute: command }) + '\n');
    });
  }

  close(): void { this.sock.destroy(); }

  private onData(d: string): void {
    this.buf += d;
    let i: number;
    while ((i = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, i).trim();
      this.buf = this.buf.slice(i + 1);
      if (!line) continue;
      let msg: Record<string, unknown>;
      try { msg = JSON.parse(line); } catch { continue; }
      if ('event' in msg) { this.emit('event', msg as unknown as QmpEvent); continue; }
      const p = this.pending.shift();
      if (!p) continue;
      if ('QMP' in msg) p.resolve(msg.QMP);
      else if ('error' in msg) p.reject(new QmpError((msg.error as { desc?: string }).desc ?? 'QMP error'));
      else p.resolve(msg.return);
    }
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pending.splice(0)) p.reject(new QmpError('QMP connection closed'));
    this.emit('close');
  }
}

/** One command on a short-lived connection; each of connect, negotiation and the command has timeoutMs. */
export async function qmpOnce<T = unknown>(path: string, command: string, args?: Record<string, unknown>, timeoutMs = 3000): Promise<T> {
  const c = await QmpClient.connect(path, timeoutMs);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new QmpError(`QMP at ${path} did not answer ${command} within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([c.execute<T>(command, args), deadline]);
  } finally {
    clearTimeout(timer);
    c.close();
  }
}
