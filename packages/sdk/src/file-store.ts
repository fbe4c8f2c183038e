import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { QueueItem, QueueStore } from './types';

/**
 * The Node queue, in an append-only file: one line per change (`{"a":[items]}` added, `{"r":[ids]}` delivered), in
 * the kernel's page cache before `track()` returns, so a killed process loses nothing it acknowledged. Loading
 * replays the lines (a line torn by a crash is skipped: its `track()` never returned) and rewrites the file
 * compactly, as does every `compactAfter` removals. One process per file.
 */
export class FileQueueStore implements QueueStore {
  private readonly items = new Map<string, QueueItem>();
  private removedSinceCompaction = 0;

  constructor(private readonly path: string, private readonly compactAfter = 5000) {}

  load(): QueueItem[] {
    this.items.clear();
    if (existsSync(this.path)) {
      for (const line of readFileSync(this.path, 'utf8').split('\n')) {
        if (!line) continue;
        let change: { a?: QueueItem[]; r?: string[] };
        try {
          change = JSON.parse(line);
        } catch {
          continue;
        }
        for (const item of change.a ?? []) this.items.set(item.id, item);
        for (const id of change.r ?? []) this.items.delete(id);
      }
    } else {
      mkdirSync(dirname(this.path), { recursive: true });
    }
    this.compact();
    return [...this.items.values()];
  }

  add(items: QueueItem[]): void {
    if (!items.length) return;
    appendFileSync(this.path, `${JSON.stringify({ a: items })}\n`);
    for (const item of items) this.items.set(item.id, item);
  }

  remove(ids: string[]): void {
    appendFileSync(this.path, `${JSON.stringify({ r: ids })}\n`);
    for (const id of ids) this.items.delete(id);
    this.removedSinceCompaction += ids.length;
    if (this.removedSinceCompaction >= this.compactAfter) this.compact();
  }

  /** Writes the live items to a new file and renames it over the old one (atomic: either file is whole). */
  private compact(): void {
    const temporary = `${this.path}.tmp`;
    writeFileSync(temporary, this.items.size ? `${JSON.stringify({ a: [...this.items.values()] })}\n` : '');
    renameSync(temporary, this.path);
    this.removedSinceCompaction = 0;
  }
}
