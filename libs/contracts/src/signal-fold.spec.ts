import { FoldableEvent, emptySignalRecord, foldEvent } from './signal-fold';
import { emptySignalState } from './signal-state';

const at = (ms: number, type: FoldableEvent['type'], extra: Partial<FoldableEvent> = {}): FoldableEvent => ({
  type, eventId: `e${ms}-${type}`, occurredAtMs: ms, ...extra,
});

function fold(events: FoldableEvent[]) {
  const record = emptySignalRecord();
  for (const event of events) foldEvent(record, event);
  return record;
}

describe('foldEvent', () => {
  it('lets unlike take back a like, whatever order they arrive in', () => {
    const like = at(1000, 'like');
    const unlike = at(2000, 'unlike');
    expect(fold([like, unlike]).liked).toBe(false);
    expect(fold([unlike, like]).liked).toBe(false);
    expect(fold([unlike, like, at(3000, 'like')]).liked).toBe(true);
  });

  it('keeps the latest rating per dimension and overall', () => {
    const record = fold([
      at(1, 'rate', { rating: 2 }),
      at(3, 'rate', { rating: 5, dimension: 'visual_quality' }),
      at(2, 'rate', { rating: 4, dimension: 'overall' }),
      at(0, 'rate', { rating: 1, dimension: 'visual_quality' }),
    ]);
    expect(record.rating).toBe(4);
    expect(record.dimensionRatings).toEqual({ visual_quality: 5 });
  });

  it('tracks the highest watch ratio, capped, and marks completion', () => {
    const record = fold([at(1, 'progress', { watchMs: 3000, durationMs: 10000 }), at(2, 'progress', { watchMs: 1000, durationMs: 10000 })]);
    expect(record.maxWatchRatio).toBeCloseTo(0.3);
    expect(record.completed).toBe(false);
    const looped = fold([at(1, 'progress', { watchMs: 50000, durationMs: 10000 })]);
    expect(looped.maxWatchRatio).toBe(1.5);
    expect(looped.completed).toBe(true);
  });

  it('folds to the same record in every arrival order, durations included', () => {
    const events = [
      at(1, 'progress', { watchMs: 3000, durationMs: 10000 }), at(2, 'progress', { watchMs: 9000, durationMs: 12000 }),
      at(3, 'complete', { durationMs: 11000 }), at(4, 'like'), at(5, 'unlike'), at(6, 'rate', { rating: 3 }),
      at(7, 'rate', { rating: 5, dimension: 'motion_quality' }), at(8, 'passed_over'), at(9, 'choose'),
    ];
    const expected = fold(events);
    expect(expected).toMatchObject({ durationMs: 12000, maxWatchMs: 11000, liked: false, rating: 3, completed: true });
    for (let shift = 1; shift < events.length; shift++) {
      expect(fold([...events.slice(shift), ...events.slice(0, shift)])).toEqual(expected);
      expect(fold([...events].reverse())).toEqual(expected);
    }
  });

  it('keeps the watch ratio as the real column stores it', () => {
    const record = fold([at(1, 'progress', { watchMs: 4040, durationMs: 11000 })]);
    expect(record.maxWatchRatio).toBe(Math.fround(4040 / 11000));
    expect(record.maxWatchRatio).not.toBe(4040 / 11000);
  });

  it('counts events but not a synthetic passed_over, which still dates the row', () => {
    const record = fold([at(5, 'play'), at(2, 'share'), at(9, 'passed_over')]);
    expect(record).toMatchObject({ eventCount: 2, firstEventAt: 2, lastEventAt: 9, shared: true, passedOver: true });
  });
});

describe('emptySignalRecord', () => {
  it('is the empty signal state plus an empty clock and no events (the two literals cannot drift apart)', () => {
    expect(emptySignalRecord()).toStrictEqual({ ...emptySignalState(), clock: {}, eventCount: 0, firstEventAt: null, lastEventAt: null });
    const a = emptySignalRecord();
    a.dimensionRatings.visual_quality = 5;
    a.clock.liked = [1, 'e'];
    expect(emptySignalRecord()).toMatchObject({ dimensionRatings: {}, clock: {} });
  });
});
