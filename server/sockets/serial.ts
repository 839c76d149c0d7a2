// /ws/serial/<vm>: the interactive serial console. One connection to QEMU's serial socket per VM
// (it serves one client at a time), shared by every attached tab.
import net from 'node:net';
import type { WebSocket } from 'ws';
import type { Lab } from '../lab/lab.ts';
import { Fanout } from './stream.ts';

const hubs = new Map<string, { fan: Fanout; sock: net.Socket }>();

function hub(lab: Lab, name: string): { fan: Fanout; sock: net.Socket } {
  const existing = hubs.get(name);
  if (existing && !existing.sock.destroyed) return existing;
  const sock = net.createConnection(lab.home.vmSerial(name));
  const fan = new Fanout({ pause: () => sock.pause(), resume: () => sock.resume() }, 64 << 10);
  const h = { fan, sock };
  hubs.set(name, h);
  let connected = false;
  sock.on('connect', () => { connected = true; });
  sock.on('data', (d: Buffer) => fan.write(d));
  sock.on('error', () => {});
  sock.on('close', () => {
    if (hubs.get(name) === h) hubs.delete(name);
    if (!connected) {
      // QEMU's socket is not there (yet, or any more): let the clients retry; they meet 4409 if it stopped.
      fan.closeAll(1013, 'the serial port is not ready');
      return;
    }
    fan.control({ t: 'exit', reason: 'the serial port closed (the VM stopped)' });
    fan.closeAll(1000, 'serial closed');
  });
  fan.onInput = (d) => { if (!sock.destroyed) sock.write(d); };
  fan.onEmpty = () => { /* keep the connection: the tail stays warm for the next tab */ };
  return h;
}

export function serialSocket(ws: WebSocket, name: string, _url: URL, lab: Lab): void {
  let status: string;
  try { status = lab.vmStatus(name); } catch { ws.close(4404, `no VM named '${name}'`); return; }
  if (status !== 'running') { ws.close(4409, `VM '${name}' is ${status}: start it first`); return; }
  const h = hub(lab, name);
  h.fan.attach(ws);
}
