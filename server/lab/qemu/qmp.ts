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

  /** Connect and negotiate capabilities. Rejects within timeoutMs if QEMU does not answer. */
  static async connect(path: string, timeoutMs = 3000): Promise<QmpClient> {
    const sock = net.createConnection(path);
    const client = new QmpClient(sock);
    const greeting = new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => { sock.destroy(); reject(new QmpError(`QMP at ${path} did not greet within ${timeoutMs} ms`)); }, timeoutMs);
      sock.once('error', (e) => { clearTimeout(t); reject(new QmpError(`cannot connect to QMP at ${path}: ${e.message}`)); });
      client.pending.push({ resolve: () => { clearTimeout(t); resolve(); }, reject: (e) => { clearTimeout(t); reject(e); } });
    });
    await greeting;
    await client.execute('qmp_capabilities');
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
    let i;
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

/** One command on a short-lived connection. */
export async function qmpOnce<T = unknown>(path: string, command: string, args?: Record<string, unknown>, timeoutMs = 3000): Promise<T> {
  const c = await QmpClient.connect(path, timeoutMs);
  try {
    return await c.execute<T>(command, args);
  } finally {
    c.close();
  }
}
