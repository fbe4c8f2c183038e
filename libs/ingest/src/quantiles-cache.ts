import { SatisfactionRepository } from '@flywheel/database';
import { DEFAULT_WATCH_QUANTILES, WatchQuantiles } from '@flywheel/satisfaction';
import { QuantilesSource } from './signal-pipeline';

const TTL_MS = 5 * 60_000;

/**
 * Watch quantiles per project, as last learned by `flywheel metrics rebuild --learn-quantiles`, else the defaults.
 * Scores written between a relearn and the next rebuild use the quantiles of their time; the rebuild makes the
 * whole history consistent again.
 */
export class CachedQuantiles implements QuantilesSource {
  private readonly cache = new Map<string, { quantiles: WatchQuantiles; expires: number }>();

  constructor(private readonly repo: SatisfactionRepository, private readonly policyId: string) {}

  async forProjects(projectIds: string[]): Promise<Map<string, WatchQuantiles>> {
    const now = Date.now();
    const stale = projectIds.filter((id) => (this.cache.get(id)?.expires ?? 0) <= now);
    if (stale.length) {
      const learned = await this.repo.quantiles(stale, this.policyId);
      for (const id of stale) {
        this.cache.set(id, { quantiles: (learned.get(id) as WatchQuantiles | undefined) ?? DEFAULT_WATCH_QUANTILES, expires: now + TTL_MS });
      }
    }
    return new Map(projectIds.map((id) => [id, this.cache.get(id)!.quantiles]));
  }
}
