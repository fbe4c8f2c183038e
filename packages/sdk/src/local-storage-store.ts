/// <reference lib="dom" />
import { FlywheelError, QueueItem, QueueStore } from './types';

/**
 * The browser queue, in localStorage: it survives reloads and restarts of the browser. Every change re-reads the
 * stored list and merges, so two tabs of one app add to one queue (both may then send an item: the api keeps it once).
 */
export class LocalStorageQueueStore implements QueueStore {
  constructor(private readonly key: string, private readonly storage: Storage = globalThis.localStorage) {}

  load(): QueueItem[] {
    try {
      const items = JSON.parse(this.storage.getItem(this.key) ?? '[]');
      return Array.isArray(items) ? items : [];
    } catch {
      return [];
    }
  }

  add(items: QueueItem[]): void {
    const stored = this.load();
    const known = new Set(stored.map((i) => i.id));
    this.write(stored.concat(items.filter((i) => !known.has(i.id))));
  }

  remove(ids: string[]): void {
    const gone = new Set(ids);
    this.write(this.load().filter((i) => !gone.has(i.id)));
  }

  private write(items: QueueItem[]): void {
    try {
      if (items.length) this.storage.setItem(this.key, JSON.stringify(items));
      else this.storage.removeItem(this.key);
    } catch (cause) {
      throw new FlywheelError('QUEUE_FULL', `browser storage is full: ${(cause as Error).message}`);
    }
  }
}
