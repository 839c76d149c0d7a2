// Raw byte sockets by path prefix; each stream has its own file in this folder.
import type { RawSocketHandler } from '../main.ts';

export const panelSockets: Record<string, RawSocketHandler> = {};
