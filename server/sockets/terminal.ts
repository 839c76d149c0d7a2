// /ws/ssh/<vm>?session=<id>: the web SSH terminal. node-pty runs the system ssh with the lab key.
// A session outlives its tabs for a grace period; reattaching replays a bounded tail. Several tabs may attach.
import * as pty from 'node-pty';
import type { WebSocket } from 'ws';
import type { Lab } from '../lab/lab.ts';
import { Fanout } from './stream.ts';

export const GRACE_MS = 60_000;
const MAX_SESSIONS = 32;

interface Session { vm: string; proc: pty.IPty; fan: Fanout; timer: NodeJS.Timeout | null; exited: boolean }
const sessions = new Map<string, Session>();

export function terminalSocket(ws: WebSocket, name: string, url: URL, lab: Lab): void {
  const id = url.searchParams.get('session') ?? '';
  if (!/^[A-Za-z0-9_-]{8,64}$/.test(id)) { ws.close(4400, 'bad session id'); return; }
  const cols = Math.min(Math.max(Number(url.searchParams.get('cols')) || 80, 2), 1000);
  const rows = Math.min(Math.max(Number(url.searchParams.get('rows')) || 24, 2), 500);
  const key = `${name}/${id}`;
  const s = sessions.get(key);
  if (s && !s.exited) {
    if (s.timer) { clearTimeout(s.timer); s.timer = null; }
    s.fan.attach(ws);
    s.fan.tell(ws, { t: 'info', text: 'reattached' });
    return;
  }
  let status: string;
  try { status = lab.vmStatus(name); } catch { ws.close(4404, `no VM named '${name}'`); return; }
  if (status !== 'running') { ws.close(4409, `VM '${name}' is ${status}: start it first`); return; }
  if (sessions.size >= MAX_SESSIONS) { ws.close(4429, 'too many terminal sessions'); return; }
  let argv: string[];
  try { argv = lab.sshArgv(name, undefined, { tty: true }); } catch (e) { ws.close(4409, (e as Error).message.slice(0, 120)); return; }
  // encoding: null — the pty's bytes as they are (no decoding here: a character split across reads, or a
  // byte that is not UTF-8, reaches the browser's terminal unchanged; it decodes as a stream).
  const proc = pty.spawn(argv[0], argv.slice(1), { name: 'xterm-256color', cols, rows, cwd: lab.home.root, encoding: null, env: { ...process.env, TERM: 'xterm-256color' } as Record<string, string> });
  const fan = new Fanout({ pause: () => proc.pause(), resume: () => proc.resume() });
  const sess: Session = { vm: name, proc, fan, timer: null, exited: false };
  sessions.set(key, sess);
  proc.onData((d: string | Buffer) => fan.write(typeof d === 'string' ? Buffer.from(d, 'utf8') : d));
  proc.onExit(({ exitCode }) => {
    sess.exited = true;
    sessions.delete(key);
    fan.control({ t: 'exit', code: exitCode });
    fan.closeAll(1000, 'session ended');
  });
  fan.onInput = (d) => { if (!sess.exited) proc.write(d); };
  fan.onResize = (c, r) => { if (!sess.exited) proc.resize(c, r); };
  fan.onEmpty = () => {
    if (sess.exited) return;
    sess.timer = setTimeout(() => { if (!fan.size) proc.kill(); }, GRACE_MS);
  };
  fan.attach(ws);
}

export function closeAllTerminals(): void {
  for (const s of sessions.values()) s.proc.kill();
  sessions.clear();
}
