// /ws/logs/<vm>?offset=N: follow the console log file from an offset, pushed on file change (fs.watch).
import fs from 'node:fs';
import type { WebSocket } from 'ws';
import type { Lab } from '../lab/lab.ts';
import { Fanout } from './stream.ts';

const CHUNK = 64 << 10;

export function logsSocket(ws: WebSocket, name: string, url: URL, lab: Lab): void {
  try { lab.vmStatus(name); } catch { ws.close(4404, `no VM named '${name}'`); return; }
  const file = lab.home.vmLog(name);
  let offset = Math.max(0, Number(url.searchParams.get('offset') ?? 0) || 0);
  let paused = false;
  let reading = false;
  const fan = new Fanout({ pause: () => { paused = true; }, resume: () => { paused = false; void pump(); } }, 0);
  const pump = async () => {
    if (reading || paused) return;
    reading = true;
    try {
      for (;;) {
        if (paused || ws.readyState !== ws.OPEN) break;
        let size = 0;
        try { const st = fs.lstatSync(file); if (!st.isFile()) break; size = st.size; } catch { break; } // never through a symlink
        if (size < offset) { offset = 0; fan.control({ t: 'reset' }); } // truncated or recreated
        if (size === offset) break;
        const len = Math.min(CHUNK, size - offset);
        const buf = Buffer.alloc(len);
        const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
        try { fs.readSync(fd, buf, 0, len, offset); } finally { fs.closeSync(fd); }
        offset += len;
        fan.write(buf);
        fan.control({ t: 'offset', n: offset });
      }
    } finally { reading = false; }
  };
  fan.attach(ws, false);
  const watcher = fs.watch(lab.home.dir('logs'), (_e, f) => { if (f === `${name}.log`) void pump(); });
  watcher.on('error', () => { /* the logs directory went away (lab cleaned): nothing more to follow */ });
  ws.on('close', () => watcher.close());
  void pump();
}
