import { PartitionWatch } from './partition-watch';

describe('PartitionWatch', () => {
  let now = 0;
  const watch = () => new PartitionWatch(() => now);

  beforeEach(() => { now = 1_000_000; });

  it('counts the wait from the last advance while a batch is in hand, and reports it stalled past the threshold', () => {
    const w = watch();
    w.batchStarted('t', 0);
    now += 4000;
    w.failed('t', 0, Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    expect(w.stalled(5000)).toEqual([]);
    now += 2000;
    expect(w.stalled(5000)).toEqual([{ topic: 't', partition: 0, seconds: 6, lag: 0, lastError: 'connect ECONNREFUSED' }]);
    w.advanced('t', 0);
    w.batchEnded('t', 0, 0);
    expect(w.waits()).toEqual([{ topic: 't', partition: 0, seconds: 0, lag: 0, lastError: null }]);
  });

  it('does not count idle time as waiting: the wait starts when messages arrive', () => {
    const w = watch();
    w.batchStarted('t', 1);
    w.advanced('t', 1);
    w.batchEnded('t', 1, 0);
    now += 3_600_000; // an idle hour
    w.batchStarted('t', 1);
    now += 100;
    expect(w.waits()[0].seconds).toBeCloseTo(0.1, 5);
  });

  it('keeps waiting after a batch that left lag, and forgets partitions it no longer owns', () => {
    const w = watch();
    w.batchStarted('t', 2);
    w.advanced('t', 2);
    w.batchEnded('t', 2, 500);
    now += 10_000;
    expect(w.stalled(5000)).toMatchObject([{ partition: 2, lag: 500, seconds: 10 }]);
    w.assigned({ t: [0, 1] });
    expect(w.waits()).toEqual([]);
  });
});
