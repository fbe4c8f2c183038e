import { newUserSalt, saltGroupKey, saltedUserId } from './user-salt';

describe('per-set user ids', () => {
  it('differ between sets for the same user, and reveal nothing of the user hash', () => {
    const [a, b] = [newUserSalt(), newUserSalt()];
    const hash = 'c0ffee'.repeat(10);
    expect(saltedUserId(a, hash)).not.toBe(saltedUserId(b, hash));
    expect(saltedUserId(a, hash)).toBe(saltedUserId(a, hash)); // stable within a set: one user's pairs share a group
    expect(saltedUserId(a, hash)).toMatch(/^[0-9a-f]{32}$/);
    expect(saltedUserId(a, hash)).not.toContain(hash.slice(0, 8));
    expect(saltedUserId(a, hash)).not.toBe(saltedUserId(a, `${hash}0`));
  });

  it('replaces only session group keys', () => {
    const salt = newUserSalt();
    expect(saltGroupKey(salt, 'user:abc')).toBe(`user:${saltedUserId(salt, 'abc')}`);
    expect(saltGroupKey(salt, 'request:r1')).toBe('request:r1');
    expect(saltGroupKey(salt, 'prompt:a user: cat')).toBe('prompt:a user: cat');
  });
});
