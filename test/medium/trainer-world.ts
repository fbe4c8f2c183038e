import { Logger } from '@nestjs/common';
import { FlywheelConfig, PinoNestLogger } from '@flywheel/config';
import {
  CreatedProject, DeletionsRepository, EventPartitions, EvidenceRepository, IngestRepository, ModelsRepository, PreferencePublicationsRepository,
  PreferenceSetsRepository, ProjectsRepository, SatisfactionRepository,
} from '@flywheel/database';
import type { TestDatabase } from '@flywheel/database/testing';
import { CachedQuantiles, rebuildProject } from '@flywheel/ingest';
import { KafkaPublisher, createKafka } from '@flywheel/kafka';
import { CURRENT_POLICY, SATISFACTION_POLICIES } from '@flywheel/satisfaction';
import { SetPublisher } from '../../apps/trainer/src/set-publisher';
import { TrainerRunner } from '../../apps/trainer/src/trainer-runner';

/** Nest's `new Logger(Context)` of the classes under test writes JSON lines at LOG_LEVEL, as in the apps. */
export function useAppLogger(): void {
  Logger.overrideLogger(new PinoNestLogger());
}

/** The repositories the trainer uses, over one data source. */
export function repositories(db: TestDatabase) {
  return {
    models: db.make(ModelsRepository), evidence: db.make(EvidenceRepository), projects: db.make(ProjectsRepository),
    sets: db.make(PreferenceSetsRepository), satisfaction: db.make(SatisfactionRepository), publications: db.make(PreferencePublicationsRepository),
    deletions: db.make(DeletionsRepository), ingest: db.make(IngestRepository),
  };
}

/** A trainer configuration for in-process tests: polls often, one thread (no worker threads), the given leases. */
export function trainerConfig(config: FlywheelConfig, setLeaseMs = 60_000, jobLeaseMs = 60_000): FlywheelConfig {
  return { ...config, trainer: { ...config.trainer, pollMs: 50, threads: 1, setLeaseMs, jobLeaseMs, scheduleMinutes: 0 } };
}

/** A TrainerRunner wired as TrainerModule wires it, in this process; `overrides` replace some of its repositories. */
export function trainerRunner(config: FlywheelConfig, db: TestDatabase, overrides: Partial<ReturnType<typeof repositories>> = {}): TrainerRunner {
  const r = { ...repositories(db), ...overrides };
  const publisher = new SetPublisher(config, r.sets, r.publications, new KafkaPublisher(createKafka(config, 'medium-trainer'), config.kafka.sendTimeoutMs));
  return new TrainerRunner(config, r.models, r.evidence, r.projects, r.sets, r.satisfaction, publisher, db.make(EventPartitions), r.deletions, r.ingest);
}

export const REQUESTS = 40;
/** The latent truth of candidate c of request r: its feature 0. */
export const quality = (r: number, c: number) => ((r * 7 + c * 13) % 17) / 17;

/**
 * Seeds a project the way the worker would leave it, without the worker: generations and feedback events written in
 * SQL, then signal rows and rollups derived by the rebuild (the same code the CLI's `metrics rebuild` runs). Four
 * candidates per request; three users each see every candidate, like the good ones and discard the bad ones.
 */
export async function seedEvidence(db: TestDatabase, project: CreatedProject): Promise<void> {
  const r0 = repositories(db);
  await r0.satisfaction.ensurePolicies(Object.values(SATISFACTION_POLICIES).map((p) => ({ id: p.id, params: p })));
  const generations: unknown[][] = [[], [], [], [], [], []];
  const events: unknown[][] = [[], [], [], [], [], [], []];
  for (let r = 0; r < REQUESTS; r++) {
    for (let c = 0; c < 4; c++) {
      const q = quality(r, c);
      const videoId = `v${r}-${c}`;
      [videoId, `req${r}`, `prompt ${r % 10}`, r % 2 ? '1.0' : '2.0', `{${q},${((r * c) % 5) / 5},${(c % 2) - 0.5},${0.1 * r}}`, 6000]
        .forEach((value, i) => generations[i].push(value));
      for (let u = 0; u < 3; u++) {
        const at = new Date(Date.UTC(2026, 10, 20, 10, r, c * 5 + u));
        const add = (kind: string, type: string, watchMs: number | null = null, offsetMs = 0) =>
          [`${r}-${c}-${u}-${kind}`, type, videoId, `user${(r + u) % 11}`, new Date(at.getTime() + offsetMs).toISOString(), watchMs, watchMs === null ? null : 6000]
            .forEach((value, i) => events[i].push(value));
        add('i', 'impression');
        add('p', 'progress', Math.round(6000 * q), 1000);
        if (q > 0.6) add('l', 'like', null, 2000);
        if (q < 0.25) add('d', 'discard', null, 2000);
      }
    }
  }
  await db.query(
    `INSERT INTO generations (project_id, video_id, request_id, prompt, prompt_norm, model, model_version, duration_ms, features, created_at, received_at)
     SELECT $1, v, r, p, p, 'gen', mv, d, f::real[], '2026-11-20T09:00:00Z', '2026-11-20T09:00:00Z'
       FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::float8[]) AS u(v, r, p, mv, f, d)`,
    [project.projectId, ...generations],
  );
  await db.query(
    `INSERT INTO feedback_events (project_id, event_id, type, video_id, user_hash, occurred_at, received_at, watch_ms, duration_ms)
     SELECT $1, e, t, v, u, o::timestamptz, o::timestamptz, w, d
       FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::float8[], $8::float8[]) AS x(e, t, v, u, o, w, d)`,
    [project.projectId, ...events],
  );
  await rebuildProject(db.make(IngestRepository), new CachedQuantiles(r0.satisfaction, CURRENT_POLICY.id), CURRENT_POLICY, project.projectId);
}
