// Push, don't poll: the panel holds a QMP event connection per running VM. The socket closing tells us
// QEMU is gone within milliseconds; a SHUTDOWN event before that means a clean exit, none means a crash.
// fs.watch on pids/ and vms/ notices VMs started, stopped, created or removed by another process (the CLI).
import fs from 'node:fs';
import path from 'node:path';
import type { LabHome } from './home.ts';
import { QmpClient } from './qemu/qmp.ts';
import { livePid, processAlive } from './qemu/process.ts';
import type { Vms } from './vm/lifecycle.ts';
import type { Bus } from './bus.ts';

export class VmWatcher {
  private conns = new Map<string, QmpClient>();
  private fsWatchers: fs.FSWatcher[] = [];
  private closed = false;

  constructor(private home: LabHome, private vms: Vms, private bus: Bus) {}

  /** Adopt every running VM and watch the lab directories. */
  start(): void {
    for (const vm of this.vms.list()) if (vm.status === 'running') void this.watch(vm.name);
    const onPid = (file: string | null) => {
      if (!file?.endsWith('.pid')) return;
      const name = file.slice(0, -4);
      if (livePid(this.home.vmPid(name))) void this.watch(name);
    };
    const onRecord = (file: string | null) => {
      if (!file?.endsWith('.json') || file.startsWith('.')) return;
      const name = file.slice(0, -5);
      const exists = fs.existsSync(path.join(this.home.dir('vms'), file));
      this.bus.emit('vm', { name, status: exists ? this.safeStatus(name) : 'removed', at: new Date().toISOString() });
    };
    this.fsWatchers.push(fs.watch(this.home.dir('pids'), (_e, f) => onPid(f)));
    this.fsWatchers.push(fs.watch(this.home.dir('vms'), (_e, f) => onRecord(f)));
  }

  private safeStatus(name: string): string {
    try { return this.vms.get(name).status; } catch { return 'removed'; }
  }

  async watch(name: string): Promise<void> {
    if (this.closed || this.conns.has(name)) return;
    const pidFile = this.home.vmPid(name);
    let client: QmpClient | null = null;
    let pid: number | null = null;
    for (let i = 0; i < 20 && !client; i++) {
      pid = livePid(pidFile);
      if (!pid) return;
      try { client = await QmpClient.connect(this.home.vmEvents(name), 2000); } catch { await new Promise((r) => setTimeout(r, 100)); }
    }
    if (!client || this.closed) { client?.close(); return; }
    if (this.conns.has(name)) { client.close(); return; }
    this.conns.set(name, client);
    let shutdown = false;
    client.on('event', (ev) => {
      if (ev.event === 'SHUTDOWN') shutdown = true;
      const status = ev.event === 'STOP' ? 'paused' : ev.event === 'RESUME' ? 'running' : ev.event === 'SHUTDOWN' ? 'stopping' : null;
      if (status) this.bus.emit('vm', { name, status, detail: ev.event, at: new Date().toISOString() });
    });
    client.on('close', () => {
      this.conns.delete(name);
      if (this.closed) return;
      const op = this.lockedBy(name);
      if (op === 'stop' || op === 'clean') return; // the stop in progress reports itself
      // QEMU closes its monitors a moment before it exits: settle once the process is gone.
      void processGone(pid!).then(() => {
        if (this.closed) return;
        if (!shutdown) { this.vms.markCrashed(name); return; }
        // A clean exit of its own (guest poweroff, SIGTERM from outside).
        this.vms.settleStopped(name);
        this.bus.emit('vm', { name, status: this.safeStatus(name), detail: 'powered off', at: new Date().toISOString() });
      });
    });
  }

  private lockedBy(name: string): string | null {
    try { return fs.readFileSync(this.home.vmLock(name), 'utf8').split('\n')[1] ?? null; } catch { return null; }
  }

  close(): void {
    this.closed = true;
    for (const w of this.fsWatchers) w.close();
    for (const c of this.conns.values()) c.close();
    this.conns.clear();
  }
}

/** Resolves when pid has exited, or after ms if it has not. */
async function processGone(pid: number, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (processAlive(pid) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
}
