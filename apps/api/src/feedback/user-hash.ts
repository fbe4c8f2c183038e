import { createHmac } from 'node:crypto';

/**
 * Invariant 5: what a raw user id becomes before it leaves the api — a keyed HMAC, scoped by project so ids cannot
 * be joined across projects. Ingestion and a user's deletion hash the same way, so a deletion finds the stored rows.
 */
export function hashUserId(hmacKey: string, projectId: string, userId: string): string {
  return createHmac('sha256', hmacKey).update(`${projectId}\0${userId}`).digest('base64url').slice(0, 32);
}
