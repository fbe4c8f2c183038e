import type { QueueItem, QueueStore } from './types';

/** A queue that lives as long as the process: for tests, and for apps that accept losing what a crash interrupts. */
export class MemoryQueueStore implements QueueStore {
  private readonly items = new Map<string, QueueItem>();

  load(): QueueItem[] {
    return [...this.items.values()];
  }

  add(items: QueueItem[]): void {
    for (const item of items) this.items.set(item.id, item);
  }

  remove(ids: string[]): void {
    for (const id of ids) this.items.delete(id);
  }
}
