// Raw byte sockets by path prefix; each stream has its own file in this folder.
import type { RawSocketHandler } from '../main.ts';
import { logsSocket } from './logs.ts';
import { serialSocket } from './serial.ts';
import { closeAllTerminals, terminalSocket } from './terminal.ts';

export const panelSockets: Record<string, RawSocketHandler> = {
  '/ws/serial/': serialSocket,
  '/ws/logs/': logsSocket,
  '/ws/ssh/': terminalSocket,
};

/** What the handlers keep beyond their sockets, ended when the panel closes (the SSH terminals' ssh processes). */
export function closePanelSockets(): void { closeAllTerminals(); }
