import { appendFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { FileQueueStore } from './file-store';
import { QueueItem } from './types';

const item = (n: number): QueueItem => ({ id: `e${n}`, kind: 'e', body: { eventId: `e${n}`, type: 'like', videoId: 'v', userId: 'u', occurredAt: '2026-11-01T12:00:00Z' } });

describe('FileQueueStore', () => {
  const file = () => path.join(mkdtempSync(path.join(tmpdir(), 'flywheel-sdk-')), 'nested', 'queue.jsonl');

  it('keeps what was added and not removed, across instances (a restart)', () => {
    const where = file();
    const first = new FileQueueStore(where);
    expect(first.load()).toEqual([]);
    first.add([item(1), item(2), item(3)]);
    first.remove(['e2']);
    first.add([item(4)]);
    expect(new FileQueueStore(where).load().map((i) => i.id)).toEqual(['e1', 'e3', 'e4']);
  });

  it('skips a line torn by a crash and rewrites the file compactly on load', () => {
    const where = file();
    const store = new FileQueueStore(where);
    store.load();
    store.add([item(1)]);
    appendFileSync(where, '{"a":[{"id":"e2","kind":"e","bo');
    expect(new FileQueueStore(where).load().map((i) => i.id)).toEqual(['e1']);
    expect(readFileSync(where, 'utf8').trim().split('\n')).toHaveLength(1);
    const again = new FileQueueStore(where);
    again.load();
    again.add([item(3)]);
    expect(new FileQueueStore(where).load().map((i) => i.id)).toEqual(['e1', 'e3']);
  });

  it('compacts after many removals', () => {
    const where = file();
    const store = new FileQueueStore(where, 10);
    store.load();
    for (let i = 0; i < 25; i++) {
      store.add([item(i)]);
      if (i < 24) store.remove([`e${i}`]);
    }
    expect(readFileSync(where, 'utf8').trim().split('\n').length).toBeLessThan(12);
    expect(new FileQueueStore(where).load().map((i) => i.id)).toEqual(['e24']);
  });
});
