import { Slots } from './parallel-export';

describe('Slots (the bound on parallel exports)', () => {
  it('lets `size` holders in at once and the rest in request order as slots free up', async () => {
    const slots = new Slots(2);
    const entered: string[] = [];
    const hold = async (name: string) => {
      const release = await slots.acquire();
      entered.push(name);
      return release;
    };
    const a = await hold('a');
    const b = await hold('b');
    const c = hold('c');
    const d = hold('d');
    await new Promise((r) => setImmediate(r));
    expect(entered).toEqual(['a', 'b']);
    expect(slots.queued).toBe(2);
    b();
    const releaseC = await c;
    expect(entered).toEqual(['a', 'b', 'c']);
    b(); // releasing twice frees nothing more
    await new Promise((r) => setImmediate(r));
    expect(entered).toEqual(['a', 'b', 'c']);
    a();
    (await d)();
    releaseC();
    expect(entered).toEqual(['a', 'b', 'c', 'd']);
    // all free again: two enter at once
    await Promise.all([hold('e'), hold('f')]);
    expect(slots.queued).toBe(0);
  });
});
