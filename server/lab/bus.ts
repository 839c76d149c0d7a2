// The in-process event bus: status changes, job progress, doctor re-checks. Subscriptions read from it.
import { EventEmitter, on } from 'node:events';

export interface BusEvents {
  host: { kind: 'doctor'; checkedAt: string; ok: boolean };
  vm: { name: string; status: string; detail?: string; at: string };
  job: { id: string };
  pxe: { kind: 'leases' | 'reservations' | 'artifacts' | 'docker'; at: string };
}
export type Topic = keyof BusEvents;

export class Bus {
  private ee = new EventEmitter();
  constructor() { this.ee.setMaxListeners(0); }
  emit<T extends Topic>(topic: T, payload: BusEvents[T]): void { this.ee.emit(topic, payload); }
  on<T extends Topic>(topic: T, fn: (p: BusEvents[T]) => void): () => void {
    this.ee.on(topic, fn);
    return () => this.ee.off(topic, fn);
  }
  /** An async iterator of one topic until the signal aborts (for tRPC subscriptions). */
  async *stream<T extends Topic>(topic: T, signal: AbortSignal | undefined): AsyncGenerator<BusEvents[T]> {
    try {
      for await (const [payload] of on(this.ee, topic, { signal })) yield payload as BusEvents[T];
    } catch (e) {
      if ((e as Error).name !== 'AbortError') throw e;
    }
  }
}
