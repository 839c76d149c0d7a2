// The one process: HTTP server, guard, Next handler, tRPC over HTTP and WebSocket, raw byte sockets.
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { EventEmitter } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import next from 'next';
import { WebSocketServer, type WebSocket } from 'ws';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import { applyWSSHandler } from '@trpc/server/adapters/ws';
import { appRouter } from './api/root.ts';
import type { Context } from './api/trpc.ts';
import { SECURITY_HEADERS, WS_PROTOCOL, assertLoopbackBind, factsOf, judge, newSecret, type GuardConfig } from './guard.ts';
import type { Lab } from './lab/lab.ts';
import { vmNameAfter } from './lab/spec.ts';
import { HTTP_STATUS, errorKind, errorLine } from './lab/errors.ts';
import { handleUpload } from './http/upload.ts';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_PORT = 7780;
/** Largest WebSocket message we accept (tRPC and raw sockets). */
export const MAX_WS_PAYLOAD = 1 << 20;

/** A raw byte stream endpoint (serial console, ssh terminal, log follow): gets an authenticated socket for a VM name. */
export type RawSocketHandler = (ws: WebSocket, vm: string, url: URL, lab: Lab) => void;

export interface PanelOptions {
  lab: Lab;
  port?: number;
  host?: string;
  dev?: boolean;
  /** Raw socket handlers by exact path prefix, e.g. '/ws/serial/'. */
  sockets?: Record<string, RawSocketHandler>;
  /** Called by close(): ends what the socket handlers keep beyond their sockets (the SSH terminals' ptys). */
  closeSockets?: () => void;
}

export interface Panel {
  port: number;
  launchUrl: string;
  server: http.Server;
  close(): Promise<void>;
}

function refuseUpgrade(socket: Duplex, status: number, reason: string): void {
  const text = http.STATUS_CODES[status] ?? 'Refused';
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(reason)}\r\n\r\n${reason}`);
}

/** GET /api/logs/<vm>: the console log byte for byte as it is at this moment (a download, never decoded). */
function serveLogFile(lab: Lab, pathname: string, res: http.ServerResponse): void {
  const vm = vmNameAfter(pathname, '/api/logs/');
  if ('error' in vm) { res.writeHead(400, { 'Content-Type': 'text/plain' }); res.end(`${vm.error}\n`); return; }
  let file: { size: number; stream: NodeJS.ReadableStream };
  try { file = lab.consoleLogFile(vm.name); } catch (e) {
    // The one error → status map (lab/errors.ts), as tRPC uses it; anything unexpected is a 500.
    const kind = errorKind(e);
    res.writeHead(kind ? HTTP_STATUS[kind] : 500, { 'Content-Type': 'text/plain' }); res.end(`${errorLine(e)}\n`); return;
  }
  res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(file.size),
    'Content-Disposition': `attachment; filename="${vm.name}-console.log"` });
  file.stream.on('error', () => res.destroy()).pipe(res);
}

function hostHeaderCount(req: http.IncomingMessage): number {
  let n = 0;
  for (let i = 0; i < req.rawHeaders.length; i += 2) if (req.rawHeaders[i].toLowerCase() === 'host') n++;
  return n;
}

export async function startPanel(opts: PanelOptions): Promise<Panel> {
  const host = opts.host ?? '127.0.0.1';
  assertLoopbackBind(host);
  const port = opts.port ?? DEFAULT_PORT;
  const secret = newSecret();
  const cfg: GuardConfig = { port, secret, cookieSecret: newSecret() };
  const lab = opts.lab;
  const createContext = (): Context => ({ lab });

  // Next must not attach its own (unguarded) upgrade listener to our server: give it a decoy.
  const app = next({ dev: !!opts.dev, dir: PROJECT_ROOT, hostname: '127.0.0.1', port, quiet: !opts.dev,
    httpServer: new EventEmitter() as unknown as http.Server });
  await app.prepare();
  const nextHandler = app.getRequestHandler();
  const nextUpgrade = (app as unknown as { upgradeHandler: (req: http.IncomingMessage, s: Duplex, h: Buffer) => Promise<void> }).upgradeHandler;

  const trpcHandler = createHTTPHandler({ router: appRouter, createContext, basePath: '/api/trpc/' });
  // The page offers `pvmlab` and `pvmlab.key.<key>`: answer `pvmlab`, never echo the key.
  const handleProtocols = (offered: Set<string>) => (offered.has(WS_PROTOCOL) ? WS_PROTOCOL : false);
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_WS_PAYLOAD, handleProtocols });
  const trpcWs = applyWSSHandler({ wss, router: appRouter, createContext, keepAlive: { enabled: true, pingMs: 30_000, pongWaitMs: 10_000 } });
  const rawWss = new WebSocketServer({ noServer: true, maxPayload: MAX_WS_PAYLOAD, handleProtocols });
  const sockets = Object.entries(opts.sockets ?? {});

  const server = http.createServer((req, res) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
    if (hostHeaderCount(req) > 1) { res.writeHead(403, { 'Content-Type': 'text/plain' }); res.end('403 exactly one Host header\n'); return; }
    const verdict = judge(factsOf(req, false), cfg);
    if (verdict.kind === 'deny') {
      res.writeHead(verdict.status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(`${verdict.status} ${verdict.reason}\n`);
      return;
    }
    if (verdict.kind === 'login') {
      res.writeHead(302, { Location: verdict.location, 'Set-Cookie': verdict.cookie, 'Cache-Control': 'no-store' });
      res.end();
      return;
    }
    if (req.url?.startsWith('/api/')) {
      res.setHeader('Cache-Control', 'no-store');
      if (req.url.startsWith('/api/trpc/')) {
        trpcHandler(req, res);
        return;
      }
      if (req.url.startsWith('/api/logs/') && req.method === 'GET') {
        serveLogFile(lab, new URL(req.url, 'http://x').pathname, res);
        return;
      }
      if (req.url.startsWith('/api/upload/artifact') && req.method === 'POST') {
        // Streamed straight into the provisioner over SSH, checked on both ends (server/http/upload.ts).
        void handleUpload({ upload: (n, body, o) => lab.uploadArtifact(n, body, o) }, new URL(req.url, 'http://x'), req, res);
        return;
      }
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found\n');
      return;
    }
    nextHandler(req, res).catch((e: unknown) => {
      console.error('page error', e);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });

  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    if (hostHeaderCount(req) > 1) { refuseUpgrade(socket, 403, 'exactly one Host header'); return; }
    const verdict = judge(factsOf(req, true), cfg);
    if (verdict.kind === 'deny' && verdict.status !== 401) {
      refuseUpgrade(socket, verdict.status, verdict.reason);
      return;
    }
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
    if (url.pathname.startsWith('/_next/')) {
      if (verdict.kind !== 'allow' || !opts.dev) { refuseUpgrade(socket, 401, 'no session'); return; }
      void nextUpgrade(req, socket, head);
      return;
    }
    const raw = sockets.find(([prefix]) => url.pathname.startsWith(prefix));
    const target = url.pathname === '/ws/trpc' ? wss : raw ? rawWss : null;
    if (!target) { refuseUpgrade(socket, 403, 'unknown socket'); return; }
    target.handleUpgrade(req, socket, head, (ws) => {
      if (verdict.kind !== 'allow') { ws.close(4401, verdict.kind === 'deny' ? verdict.reason.slice(0, 120) : 'no session: open the launch URL'); return; }
      if (!raw) { wss.emit('connection', ws, req); return; }
      const vm = vmNameAfter(url.pathname, raw[0]);
      if ('error' in vm) ws.close(4400, Buffer.byteLength(vm.error) <= 123 ? vm.error : 'bad VM name');
      else raw[1](ws, vm.name, url, lab);
    });
  });

  server.headersTimeout = 30_000;
  server.requestTimeout = 0; // uploads may be long; headers are bounded above
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => { server.off('error', reject); resolve(); });
  });
  return {
    port,
    launchUrl: `http://127.0.0.1:${port}/?token=${secret}`,
    server,
    async close() {
      trpcWs.broadcastReconnectNotification();
      for (const c of [...wss.clients, ...rawWss.clients]) c.terminate();
      opts.closeSockets?.();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await app.close();
    },
  };
}
