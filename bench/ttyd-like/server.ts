// A ttyd-equivalent built from the same parts as the panel — NOT ttyd. Bench-only (bench/terminal-latency.ts).
//
// ttyd (https://github.com/tsl0922/ttyd) is not installable here (Debian 12 has no ttyd package and only
// npm + the Debian mirrors are reachable), so the P3/P4 comparison runs against this instead. It keeps
// ttyd's design, where it differs from the panel's:
//   - one process serving one command: every WebSocket connection spawns the command on a fresh pty
//     (node-pty, as the panel does; ttyd uses libuv's pty directly, in C);
//   - ttyd's wire protocol: binary frames whose first byte is a command. Server → client: '0' + output,
//     '1' + window title, '2' + JSON preferences. Client → server: '0' + input, '1' + JSON {columns, rows}
//     (resize), '2' pause, '3' resume; the client's first message is JSON {AuthToken, columns, rows},
//     after which the command is spawned;
//   - ttyd's flow control and nothing more: the client counts bytes handed to xterm and, every 100 000
//     bytes, passes a callback to term.write; more than 10 of those pending → '2' (pause: the server stops
//     reading the pty), fewer than 4 → '3' (resume). No acks, no replay, no sessions, no reconnect logic
//     beyond the page's own;
//   - a plain static page (index.html + client.js, no framework, no bundler) with xterm.js from the
//     repo's node_modules (the same @xterm/xterm and @xterm/addon-fit the panel ships) and ttyd's own
//     terminal options (font size 13, its theme; xterm's defaults otherwise — so no cursor blink). ttyd
//     asks for the WebGL renderer and falls back to canvas/DOM; this page uses xterm's DOM renderer, the
//     one the panel picks on the bench's Chromium (--disable-gpu: its WebGL is SwiftShader, software GL —
//     components/terminal/renderer.ts; WeTTY, in the same bench, shows the WebGL renderer on it).
//
// Usage (prints `listening http://127.0.0.1:<port>/` on stdout once ready):
//   node --import tsx bench/ttyd-like/server.ts [--port 0] [--cwd DIR] [--title T] -- COMMAND [ARGS…]
// Loopback only: it binds 127.0.0.1, answers only requests whose Host is 127.0.0.1:<port> or
// localhost:<port>, and accepts WebSockets only from that origin. It has no authentication (like ttyd
// without -c): it is a bench-only process that lives for one bench run.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as pty from 'node-pty';
import { WebSocketServer, type WebSocket } from 'ws';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');

const STATIC: Record<string, { file: string; type: string }> = {
  '/': { file: path.join(HERE, 'index.html'), type: 'text/html; charset=utf-8' },
  '/client.js': { file: path.join(HERE, 'client.js'), type: 'text/javascript; charset=utf-8' },
  '/xterm.js': { file: path.join(ROOT, 'node_modules/@xterm/xterm/lib/xterm.js'), type: 'text/javascript; charset=utf-8' },
  '/xterm.css': { file: path.join(ROOT, 'node_modules/@xterm/xterm/css/xterm.css'), type: 'text/css; charset=utf-8' },
  '/addon-fit.js': { file: path.join(ROOT, 'node_modules/@xterm/addon-fit/lib/addon-fit.js'), type: 'text/javascript; charset=utf-8' },
};

export interface TtydLikeOptions { command: string[]; cwd?: string; port?: number; title?: string }
export interface TtydLike { port: number; url: string; close(): Promise<void> }

/** Start the server in this process (the bench runs it as its own process: see the CLI below). */
export function startTtydLike(o: TtydLikeOptions): Promise<TtydLike> {
  if (!o.command.length) throw new Error('no command');
  const files = new Map(Object.entries(STATIC).map(([k, v]) => [k, { body: fs.readFileSync(v.file), type: v.type }]));
  let port = 0;
  const hostOk = (h: string | undefined) => h === `127.0.0.1:${port}` || h === `localhost:${port}`;
  const procs = new Set<pty.IPty>();

  const server = http.createServer((req, res) => {
    if (!hostOk(req.headers.host)) { res.writeHead(421, { 'Content-Type': 'text/plain' }); res.end('wrong Host\n'); return; }
    const f = req.method === 'GET' ? files.get(new URL(req.url ?? '/', 'http://x').pathname) : undefined;
    if (!f) { res.writeHead(404, { 'Content-Type': 'text/plain' }); res.end('not found\n'); return; }
    res.writeHead(200, { 'Content-Type': f.type, 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
    res.end(f.body);
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 20 });
  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    const originOk = req.headers.origin === `http://127.0.0.1:${port}` || req.headers.origin === `http://localhost:${port}`;
    if (!hostOk(req.headers.host) || !originOk || new URL(req.url ?? '/', 'http://x').pathname !== '/ws') {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => session(ws));
  });

  function session(ws: WebSocket): void {
    let proc: pty.IPty | null = null;
    const enc = new TextEncoder();
    const out = (cmd: string, payload: Buffer) => {
      if (ws.readyState !== ws.OPEN) return;
      const b = Buffer.allocUnsafe(payload.length + 1);
      b[0] = cmd.charCodeAt(0);
      payload.copy(b, 1);
      ws.send(b, { binary: true });
    };
    ws.on('message', (data) => {
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      if (!buf.length) return;
      if (!proc) {
        // The handshake: JSON {AuthToken, columns, rows}; then the command starts on a pty of that size.
        let m: { columns?: number; rows?: number };
        try { m = JSON.parse(buf.toString('utf8')); } catch { ws.close(1008, 'bad handshake'); return; }
        const cols = Math.min(Math.max(Number(m.columns) || 80, 2), 1000);
        const rows = Math.min(Math.max(Number(m.rows) || 24, 2), 500);
        const p = pty.spawn(o.command[0], o.command.slice(1), { name: 'xterm-256color', cols, rows, cwd: o.cwd ?? process.cwd(),
          env: { ...process.env, TERM: 'xterm-256color' } as Record<string, string> });
        proc = p;
        procs.add(p);
        out('1', Buffer.from(enc.encode(o.title ?? o.command.join(' '))));
        out('2', Buffer.from('{}'));
        p.onData((d) => out('0', Buffer.from(d, 'utf8')));
        p.onExit(() => { procs.delete(p); if (ws.readyState === ws.OPEN) ws.close(1000, 'process exited'); });
        return;
      }
      const cmd = String.fromCharCode(buf[0]);
      if (cmd === '0') proc.write(buf.subarray(1).toString('utf8'));
      else if (cmd === '1') {
        try {
          const m = JSON.parse(buf.subarray(1).toString('utf8')) as { columns?: number; rows?: number };
          if (Number.isInteger(m.columns) && Number.isInteger(m.rows)) proc.resize(Math.min(Math.max(m.columns!, 2), 1000), Math.min(Math.max(m.rows!, 2), 500));
        } catch { /* ignore */ }
      } else if (cmd === '2') proc.pause();
      else if (cmd === '3') proc.resume();
    });
    ws.on('close', () => { if (proc) { procs.delete(proc); proc.kill(); } });
  }

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, '127.0.0.1', () => {
      port = (server.address() as { port: number }).port;
      resolve({
        port,
        url: `http://127.0.0.1:${port}/`,
        close: () => new Promise<void>((r) => {
          for (const p of procs) p.kill();
          for (const c of wss.clients) c.terminate();
          server.closeAllConnections();
          server.close(() => r());
        }),
      });
    });
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { port: { type: 'string', default: '0' }, cwd: { type: 'string' }, title: { type: 'string' } },
  });
  startTtydLike({ command: positionals, cwd: values.cwd, port: Number(values.port), title: values.title }).then((s) => {
    console.log(`listening ${s.url}`);
    const stop = () => { void s.close().then(() => process.exit(0)); };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  }, (e: unknown) => { console.error(e); process.exit(1); });
}
