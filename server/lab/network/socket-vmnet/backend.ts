// Executes the socket_vmnet plans (macOS only; sudo prompts happen in the user's terminal).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import type { LabConfig } from '../../config.ts';
import type { NetworkBackend, NetworkStatus } from '../types.ts';
import { SOCKET_VMNET_CANDIDATES, planLaunchdPlist, planServiceCommands, planSocketVmnetNic } from './plan.ts';

export function socketVmnetBackend(cfg: LabConfig): NetworkBackend {
  const binary = () => {
    const b = SOCKET_VMNET_CANDIDATES.find((p) => fs.existsSync(p));
    if (!b) throw new Error('socket_vmnet is not installed: brew install socket_vmnet');
    return b;
  };
  const status = async (): Promise<NetworkStatus> => {
    if (process.platform !== 'darwin') {
      return { backend: 'socket_vmnet', running: false, detail: 'socket_vmnet runs on macOS only', hint: 'use the userspace backend on Linux' };
    }
    const [cmd] = planServiceCommands('status', '');
    const r = await execa(cmd[0], cmd.slice(1), { reject: false });
    const running = r.exitCode === 0 && /state = running/.test(r.stdout);
    return { backend: 'socket_vmnet', running, detail: running ? `socket_vmnet serving ${cfg.network.socketVmnet.socketPath}` : 'socket_vmnet is not running',
      hint: running ? undefined : 'pvmlab network start (asks for sudo)' };
  };
  const run = async (cmds: string[][]) => {
    for (const c of cmds) await execa(c[0], c.slice(1), { stdio: 'inherit' });
  };
  return {
    privateNicArgs: (o) => planSocketVmnetNic(cfg, o),
    wrapper: () => [],
    async start() {
      const tmp = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pvmlab-')), 'socket_vmnet.plist');
      fs.writeFileSync(tmp, planLaunchdPlist(cfg, binary()));
      try { await run(planServiceCommands('start', tmp)); } finally { fs.rmSync(path.dirname(tmp), { recursive: true, force: true }); }
      return status();
    },
    async stop() { await run(planServiceCommands('stop', '')); return status(); },
    status,
  };
}
