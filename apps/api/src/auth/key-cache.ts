import { Inject, Injectable } from '@nestjs/common';
import { FLYWHEEL_CONFIG, FlywheelConfig } from '@flywheel/config';
import { KeyOwner, ProjectsRepository, hashKey } from '@flywheel/database';

const MAX_ENTRIES = 10_000;

/**
 * Key lookups, cached for API_KEY_CACHE_TTL_MS so the hot ingest path does not hit the database per request (and
 * not past a rotated key's expiry). One per api process: Nest makes a guard instance per controller, so the cache
 * lives here, where a revocation or a deletion made through this process can drop it at once.
 */
@Injectable()
export class KeyCache {
  private readonly cache = new Map<string, { owner: KeyOwner | null; expires: number }>();

  constructor(private readonly projects: ProjectsRepository, @Inject(FLYWHEEL_CONFIG) private readonly config: FlywheelConfig) {}

  async lookup(key: string): Promise<KeyOwner | null> {
    const hash = hashKey(key);
    const id = hash.toString('base64');
    const now = Date.now();
    const cached = this.cache.get(id);
    if (cached && cached.expires > now) return cached.owner;
    const owner = await this.projects.findKeyOwner(hash);
    if (this.cache.size > MAX_ENTRIES) this.cache.clear();
    let expires = now + (owner ? this.config.api.keyCacheTtlMs : 1000);
    if (owner?.expiresAt) expires = Math.min(expires, new Date(owner.expiresAt).getTime());
    this.cache.set(id, { owner, expires });
    return owner;
  }

  /** Drops cached lookups of a project's keys (after a revocation, rotation or deletion made through this process). */
  forgetProject(projectId: string): void {
    for (const [id, entry] of this.cache) if (entry.owner?.projectId === projectId) this.cache.delete(id);
  }
}
