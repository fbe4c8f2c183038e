import { MigrationInterface, QueryRunner } from 'typeorm';

// Frozen copy of libs/satisfaction MOMENT_COLUMNS at this migration.
const PAIRS: [string, string][] = [
  ['likes', 'viewers'], ['favorites', 'viewers'], ['shares', 'viewers'], ['downloads', 'viewers'], ['exports', 'viewers'],
  ['completions', 'plays'], ['regenerates', 'viewers'], ['discards', 'viewers'], ['dislikes', 'viewers'],
  ['watch_sum', 'watch_n'], ['sat_sum', 'viewers'],
];
const MOMENTS: [string, string][] = [];
for (const [a, b] of [...PAIRS.map(([n]) => [n, n]), ...PAIRS, ...PAIRS.map(([, d]) => [d, d])] as [string, string][]) {
  if (!MOMENTS.some(([x, y]) => x === a && y === b)) MOMENTS.push([a, b]);
}
const momentName = (a: string, b: string) => `m_${a}__${b}`;

/**
 * Video cluster moments per (model, model version, category, segment) instead of per version: a video never spans
 * those, so a category or segment breakdown gets the exact video term of its own videos (the version-wide one mixed
 * the differences between categories into every category's interval). User moments stay per version (a user spans
 * categories), under category = segment = ''.
 */
export class VideoMomentsPerCell1764002100001 implements MigrationInterface {
  name = 'VideoMomentsPerCell1764002100001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE cluster_moments ADD COLUMN category text NOT NULL DEFAULT '', ADD COLUMN segment text NOT NULL DEFAULT ''`);
    await q.query(`ALTER TABLE cluster_moments DROP CONSTRAINT cluster_moments_pkey`);
    await q.query(`ALTER TABLE cluster_moments ADD PRIMARY KEY (project_id, unit, model, model_version, category, segment)`);
    await q.query(`DELETE FROM cluster_moments WHERE unit = 'video'`);
    await q.query(`
      INSERT INTO cluster_moments (project_id, unit, model, model_version, category, segment, clusters, ${MOMENTS.map(([a, b]) => momentName(a, b)).join(', ')})
      SELECT project_id, 'video', model, model_version, category, segment, count(*) FILTER (WHERE viewers > 0),
             ${MOMENTS.map(([a, b]) => `sum(${a} * ${b})`).join(', ')}
        FROM video_aggregates GROUP BY 1, 2, 3, 4, 5, 6`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM cluster_moments WHERE unit = 'video'`);
    await q.query(`ALTER TABLE cluster_moments DROP CONSTRAINT cluster_moments_pkey`);
    await q.query(`ALTER TABLE cluster_moments DROP COLUMN category, DROP COLUMN segment`);
    await q.query(`ALTER TABLE cluster_moments ADD PRIMARY KEY (project_id, unit, model, model_version)`);
    await q.query(`
      INSERT INTO cluster_moments (project_id, unit, model, model_version, clusters, ${MOMENTS.map(([a, b]) => momentName(a, b)).join(', ')})
      SELECT project_id, 'video', model, model_version, count(*) FILTER (WHERE viewers > 0),
             ${MOMENTS.map(([a, b]) => `sum(${a} * ${b})`).join(', ')}
        FROM video_aggregates GROUP BY 1, 2, 3, 4`);
  }
}
