// Test helper: a fake QMP server on a unix socket speaking QEMU's wire protocol (greeting, qmp_capabilities
// negotiation, CommandNotFound errors, events to negotiated connections), with the replies a test chooses.
// Used in-process by qmp.test.ts and watch tests, and as a child process by testing/fake-qemu.ts.
import fs from 'node:fs';
import net from 'node:net';

export const GREETING = {
  QMP: { version: { qemu: { micro: 22, minor: 2, major: 7 }, package: 'Debian 1:7.2+dfsg-7+deb12u18+b3' }, capabilities: ['oob'] },
};

/** A reply to send: a QMP message object, a raw string sent as is, or 'silent' for none (a hung QEMU). */
export type Reply = Record<string, unknown> | string | 'silent';

export interface FakeQmpOptions {
  /** Send the greeting on connect (default true). */
  greet?: boolean;
  /** Read commands but never answer any, qmp_capabilities included (a QEMU whose main loop hangs). */
  hung?: boolean;
  /** Called for every command after negotiation; undefined = QEMU's default answer. */
  onCommand?: (command: string, args: unknown, conn: net.Socket) => Reply | undefined;
}

const KNOWN = new Set(['stop', 'cont', 'system_powerdown', 'quit', 'query-status']);

export class FakeQmp {
  /** Every command received, in order, across connections (qmp_capabilities included). */
  readonly commands: string[] = [];
  private conns = new Set<net.Socket>();
  private negotiated = new Set<net.Socket>();

  private constructor(readonly path: string, private server: net.Server, private opts: FakeQmpOptions) {
    server.on('connection', (c) => this.onConnection(c));
  }

  static listen(path: string, opts: FakeQmpOptions = {}): Promise<FakeQmp> {
    fs.rmSync(path, { force: true });
    const server = net.createServer();
    const fake = new FakeQmp(path, server, opts);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve(fake));
    });
  }

  get connections(): number { return this.conns.size; }

  /** Send an event to every negotiated connection (as QEMU does). */
  event(event: string, data?: Record<string, unknown>): void {
    const now = Date.now();
    const msg = JSON.stringify({ timestamp: { seconds: Math.floor(now / 1000), microseconds: (now % 1000) * 1000 }, event, ...(data ? { data } : {}) });
    for (const c of this.negotiated) c.write(msg + '\n');
  }

  /** Drop every client connection (QEMU exiting). */
  dropClients(): void { for (const c of this.conns) c.destroy(); }

  close(): Promise<void> {
    this.dropClients();
    return new Promise((resolve) => this.server.close(() => { fs.rmSync(this.path, { force: true }); resolve(); }));
  }

  private onConnection(c: net.Socket): void {
    this.conns.add(c);
    c.on('close', () => { this.conns.delete(c); this.negotiated.delete(c); });
    c.on('error', () => {});
    if (this.opts.greet !== false) c.write(JSON.stringify(GREETING) + '\n');
    let buf = '';
    c.setEncoding('utf8');
    c.on('data', (d: string) => {
      buf += d;
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i).trim();
        buf = buf.slice(i + 1);
        if (line) this.onLine(c, line);
      }
    });
  }

  private onLine(c: net.Socket, line: string): void {
    let msg: { execute?: string; arguments?: unknown; id?: unknown };
    try { msg = JSON.parse(line); } catch {
      c.write(JSON.stringify({ error: { class: 'GenericError', desc: 'JSON parse error, expecting value' } }) + '\n');
      return;
    }
    const cmd = String(msg.execute);
    this.commands.push(cmd);
    if (this.opts.hung) return;
    const send = (r: Reply) => {
      if (r === 'silent') return;
      c.write((typeof r === 'string' ? r : JSON.stringify(msg.id !== undefined ? { ...r, id: msg.id } : r)) + '\n');
    };
    if (!this.negotiated.has(c)) {
      if (cmd === 'qmp_capabilities') { this.negotiated.add(c); send({ return: {} }); } else {
        send({ error: { class: 'CommandNotFound', desc: "Expecting capabilities negotiation with 'qmp_capabilities'" } });
      }
      return;
    }
    if (cmd === 'qmp_capabilities') {
      send({ error: { class: 'CommandNotFound', desc: 'Capabilities negotiation is already complete, command ignored' } });
      return;
    }
    const r = this.opts.onCommand?.(cmd, msg.arguments, c);
    if (r !== undefined) { send(r); return; }
    send(KNOWN.has(cmd) ? { return: {} } : { error: { class: 'CommandNotFound', desc: `The command ${cmd} has not been found` } });
  }
}
