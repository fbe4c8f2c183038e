import { nulFields } from './nul-guard';

describe('nulFields', () => {
  it('names every string holding U+0000, as the validators name fields', () => {
    expect(nulFields({ events: [{ videoId: 'ok' }, { videoId: 'a\u0000', tags: ['x', '\u0000'] }], modelVersion: 'v\u0000' }))
      .toEqual(['events[1].videoId', 'events[1].tags[1]', 'modelVersion']);
    expect(nulFields({ ['k\u0000']: 1 })).toEqual(['k\\u0000']);
    expect(nulFields('\u0000')).toEqual(['value']);
  });

  it('passes everything else, and stops counting at 20', () => {
    expect(nulFields({ a: 'plain', b: [1, null, { c: 'é🐈\u2028' }], d: undefined })).toEqual([]);
    expect(nulFields(Array.from({ length: 50 }, () => '\u0000'))).toHaveLength(20);
  });
});
