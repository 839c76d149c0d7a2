// Raw byte sockets by path prefix; each stream has its own file in this folder.
import type { RawSocketHandler } from '../main.ts';
import { logsSocket } from './logs.ts';
import { serialSocket } from './serial.ts';
import { terminalSocket } from './terminal.ts';

export const panelSockets: Record<string, RawSocketHandler> = {
  '/ws/serial/': serialSocket,
  '/ws/logs/': logsSocket,
  '/ws/ssh/': terminalSocket,
};
