'use client';
// The web SSH terminal of one VM (/ws/ssh/<vm>?session=<id>): node-pty runs the lab's ssh on the server.
// The session id lives in sessionStorage: a reload of this tab reattaches to the same shell (the server
// keeps it 60 s without tabs and replays its recent output); a new tab gets a new session.
import { useCallback, useEffect, useRef, useState } from 'react';
import { XtermView } from './xterm-view';
import type { ControlMessage, StreamSocket } from './stream-socket';
import { useReconnectOnRun, useVmStatus } from './use-vm-status';

function newId(): string {
  const b = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/** This tab's session for a VM, kept across reloads of the tab. */
function sessionFor(name: string): string {
  const key = `pvmlab.ssh.${name}`;
  try {
    const have = sessionStorage.getItem(key);
    if (have && /^[A-Za-z0-9_-]{8,64}$/.test(have)) return have;
    const id = newId();
    sessionStorage.setItem(key, id);
    return id;
  } catch {
    return newId();
  }
}

/** ssh exits 255 when it could not connect (sshd not up yet while the VM boots): try again. */
const SSH_CONNECT_FAILED = 255;

export function SshConsole({ name }: { name: string }) {
  const { status, runs } = useVmStatus(name);
  const [session, setSession] = useState<string | null>(null);
  const sock = useRef<StreamSocket | null>(null);
  useEffect(() => { setSession(sessionFor(name)); }, [name]);
  const onState = useReconnectOnRun(status, runs, sock);
  const path = useCallback(({ cols, rows }: { cols: number; rows: number }) =>
    `/ws/ssh/${encodeURIComponent(name)}?session=${session}&cols=${cols}&rows=${rows}`, [name, session]);
  const retry = useCallback((m: ControlMessage) => m.code === SSH_CONNECT_FAILED, []);
  const notRunning = status && status !== 'running' && status !== 'starting';
  if (!session) return null;
  return (
    <XtermView
      label="ssh"
      path={path}
      reconnectAfterExit={retry}
      onSocket={(s) => { sock.current = s; }}
      onState={onState}
      toolbar={<span className="mono text-xs text-zinc-500" data-testid="ssh-session" title="this tab's session (kept across reloads)">session {session.slice(0, 8)}</span>}
      notice={notRunning ? (
        <p className="rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950/40 dark:text-amber-200" data-testid="ssh-notice">
          {status === 'missing' ? `There is no VM named '${name}'.` : `The VM is ${status}. Start it and the terminal connects by itself.`}
        </p>
      ) : null}
    />
  );
}
