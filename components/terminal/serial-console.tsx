'use client';
// The interactive serial console of one VM (/ws/serial/<vm>): usable while it boots. When the VM is not
// running the server closes with 4409 and says why; we show it and connect again as soon as it runs.
import { useCallback, useRef } from 'react';
import { XtermView } from './xterm-view';
import type { StreamSocket } from './stream-socket';
import { useReconnectOnRun, useVmStatus } from './use-vm-status';

export function SerialConsole({ name }: { name: string }) {
  const { status, runs } = useVmStatus(name);
  const sock = useRef<StreamSocket | null>(null);
  const path = useCallback(() => `/ws/serial/${encodeURIComponent(name)}`, [name]);
  // The VM (re)started: the old connection ended with the serial port; attach to the new one.
  const onState = useReconnectOnRun(status, runs, sock);
  const notRunning = status && status !== 'running' && status !== 'starting';
  return (
    <XtermView
      label="serial"
      path={path}
      onSocket={(s) => { sock.current = s; }}
      onState={onState}
      notice={notRunning ? (
        <p className="rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950/40 dark:text-amber-200" data-testid="serial-notice">
          {status === 'missing' ? `There is no VM named '${name}'.` : `The VM is ${status}. Start it and the console connects by itself.`}
        </p>
      ) : null}
    />
  );
}
