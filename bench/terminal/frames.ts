// How the panel's Fanout (server/sockets/stream.ts) frames a fast producer: a host pty flood, no guest, no
// browser. Not a test: run on purpose
//
//   npx tsx bench/terminal/frames.ts [--mib 32]
//
// node-pty runs `head -c <MiB> /dev/zero | base64` on the host (a pty read is at most ~4 KiB, one read per
// turn of the event loop); its bytes go through a Fanout to a real WebSocket client in this process that acks
// as the page does (every 64 KiB). Prints pty reads vs WebSocket frames (the coalescing), their mean size,
// MiB/s, and this process's CPU per MiB (server and client together). Writes bench/results/frames.json.
import { once } from 'node:events';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as pty from 'node-pty';
import { WebSocket, WebSocketServer } from 'ws';
import { Fanout, MAX_FRAME } from '../../server/sockets/stream.ts';
import { MiB, ROOT, load1, r2 } from './common.ts';

const { values: opts } = parseArgs({ options: { mib: { type: 'string', default: '32' } } });

async function main(): Promise<void> {
  const mib = Number(opts.mib);
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(wss, 'listening');
  let reads = 0;
  const l0 = load1();
  wss.on('connection', (ws) => {
    const p = pty.spawn('bash', ['-c', `head -c ${Math.round(mib * MiB)} /dev/zero | base64; sleep 0.2`], { cols: 120, rows: 40, encoding: null });
    const fan = new Fanout({ pause: () => p.pause(), resume: () => p.resume() });
    p.onData((d: string | Buffer) => { reads++; fan.write(typeof d === 'string' ? Buffer.from(d) : d); });
    p.onExit(() => fan.closeAll(1000, 'done'));
    fan.attach(ws);
  });
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const ws = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`);
  let frames = 0;
  let bytes = 0;
  let unacked = 0;
  ws.on('message', (d, bin) => {
    if (!bin) return;
    const n = (d as Buffer).length;
    frames++; bytes += n; unacked += n;
    if (unacked >= 64 << 10) { ws.send(JSON.stringify({ t: 'ack', n: unacked })); unacked = 0; }
  });
  await once(ws, 'close');
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  wss.close();
  const result = {
    at: new Date().toISOString(), host: { cpus: os.cpus().length, node: process.version, load1: [l0, load1()] }, maxFrame: MAX_FRAME,
    bytes, ptyReads: reads, frames, meanReadBytes: Math.round(bytes / reads), meanFrameBytes: Math.round(bytes / frames),
    seconds: r2(seconds), mibPerSec: r2(bytes / MiB / seconds), cpuMsPerMiB: Math.round((cpu.user + cpu.system) / 1000 / (bytes / MiB)),
  };
  const out = path.join(ROOT, 'bench', 'results', 'frames.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`host pty flood, ${(bytes / MiB).toFixed(1)} MiB: ${reads} pty reads (${result.meanReadBytes} B) → ${frames} frames (${result.meanFrameBytes} B); ${result.mibPerSec} MiB/s; ${result.cpuMsPerMiB} ms CPU/MiB (server + client); load ${l0}→${load1()}`);
}

main().catch((e: unknown) => { console.error(e); process.exitCode = 1; });
