import { createHmac, randomBytes } from 'node:crypto';

/** Bytes of a set's user salt. */
export const USER_SALT_BYTES = 32;

export function newUserSalt(): Buffer {
  return randomBytes(USER_SALT_BYTES);
}

/**
 * The id a user has in one preference set: the first 128 bits of HMAC-SHA256(set salt, user hash), hex. A set's
 * salt is random and never leaves the database, so the id cannot be traced to the user hash (or to the raw id) and
 * the same user has unrelated ids in two sets: exports, publications and models built from them cannot be joined
 * on a user. Whoever holds the salt (user deletion) finds a known user's pairs by recomputing it.
 */
export function saltedUserId(salt: Buffer, userHash: string): string {
  return createHmac('sha256', salt).update(userHash, 'utf8').digest('hex').slice(0, 32);
}

const USER_GROUP = 'user:';

/** A session pair's group key `user:<user hash>` as it is stored in a set: `user:<saltedUserId>`; others unchanged. */
export function saltGroupKey(salt: Buffer, groupKey: string): string {
  return groupKey.startsWith(USER_GROUP) ? USER_GROUP + saltedUserId(salt, groupKey.slice(USER_GROUP.length)) : groupKey;
}
