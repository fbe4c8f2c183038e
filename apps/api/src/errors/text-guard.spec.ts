import { MAX_JSON_DEPTH, unstorableText } from './text-guard';

const fields = (value: unknown) => unstorableText(value).map((p) => p.field);

describe('unstorableText', () => {
  it('names every string PostgreSQL could not store, as the validators name fields', () => {
    expect(fields({ events: [{ videoId: 'ok' }, { videoId: 'a\u0000', tags: ['x', 'lone \ud800'] }], modelVersion: 'v\u0000' }))
      .toEqual(['events[1].videoId', 'events[1].tags[1]', 'modelVersion']);
    expect(unstorableText({ m: 'x\udc00' })).toEqual([{ field: 'm', problems: ['m must be well-formed Unicode (it holds a lone surrogate)'] }]);
    expect(unstorableText({ ['k\u0000']: 1 })).toEqual([{ field: 'k\\u0000', problems: ['property name must not contain the NUL character (U+0000)'] }]);
    expect(fields('\u0000')).toEqual(['value']);
  });

  it('passes everything else, emoji and U+2028 included, and stops counting at 20', () => {
    expect(unstorableText({ a: 'plain', b: [1, null, { c: 'é🐈\u2028' }], d: undefined })).toEqual([]);
    expect(unstorableText(Array.from({ length: 50 }, () => '\u0000'))).toHaveLength(20);
  });

  it('refuses nesting deeper than MAX_JSON_DEPTH without growing the stack, at any depth', () => {
    let deep: unknown = 'x';
    for (let d = 0; d < 100_000; d++) deep = d % 2 ? [deep] : { a: deep };
    const [problem, ...rest] = unstorableText({ events: deep });
    expect(rest).toEqual([]);
    expect(problem.problems[0]).toMatch(new RegExp(`^events(\\.a|\\[0\\])+ nests deeper than ${MAX_JSON_DEPTH} levels$`));
    let ok: unknown = 'x';
    for (let d = 0; d < MAX_JSON_DEPTH; d++) ok = [ok];
    expect(unstorableText(ok)).toEqual([]);
  });
});
