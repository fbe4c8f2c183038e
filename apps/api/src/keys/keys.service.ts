import { Injectable } from '@nestjs/common';
import { KeyKind, KeyRow, ProjectRow, ProjectsRepository, issueKey, rotateKey } from '@flywheel/database';
import { KeyCache } from '../auth/key-cache';
import { FlywheelError } from '@flywheel/errors';

export interface KeyView extends KeyRow {
  active: boolean;
}

function view(row: KeyRow, now = Date.now()): KeyView {
  const active = row.revokedAt === null && (row.expiresAt === null || new Date(row.expiresAt).getTime() > now);
  return { ...row, active };
}

export function projectView(p: ProjectRow) {
  return {
    projectId: p.id, name: p.name, featureDim: p.featureDim, ratingDimensions: p.ratingDimensions, createdAt: p.createdAt, allowedOrigins: p.allowedOrigins,
    rateLimits: p.rateLimits, deletedAt: p.deletedAt, eventRetentionDays: p.eventRetentionDays,
  };
}

/** Key management for one project. Changes made here apply to this api process at once (its key cache is dropped). */
@Injectable()
export class KeysService {
  constructor(private readonly projects: ProjectsRepository, private readonly keyCache: KeyCache) {}

  async list(projectId: string): Promise<{ keys: KeyView[] }> {
    return { keys: (await this.projects.listKeys(projectId)).map((k) => view(k)) };
  }

  create(projectId: string, kind: KeyKind) {
    return issueKey(this.projects, projectId, kind);
  }

  async revoke(projectId: string, keyId: string): Promise<{ keyId: string; revoked: true }> {
    const keys = await this.projects.listKeys(projectId);
    const target = keys.find((k) => k.keyId === keyId);
    if (!target || !view(target).active) throw new FlywheelError('NOT_FOUND', `no active key ${keyId} in this project`);
    if (target.kind === 'secret' && (await this.projects.countOtherActiveSecretKeys(projectId, keyId)) === 0) {
      throw new FlywheelError('CONFLICT', "this is the project's last active secret key: create another one first, or rotate it");
    }
    if (!(await this.projects.revokeKey(projectId, keyId))) throw new FlywheelError('NOT_FOUND', `no active key ${keyId} in this project`);
    this.keyCache.forgetProject(projectId);
    return { keyId, revoked: true };
  }

  async rotate(projectId: string, keyId: string, overlapSeconds: number) {
    const rotated = await rotateKey(this.projects, projectId, keyId, overlapSeconds);
    if (!rotated) throw new FlywheelError('NOT_FOUND', `no active key ${keyId} in this project`);
    this.keyCache.forgetProject(projectId);
    return {
      keyId: rotated.created.keyId, key: rotated.key, kind: rotated.created.kind, prefix: rotated.created.prefix,
      replaces: { keyId: rotated.old.keyId, expiresAt: rotated.old.expiresAt },
    };
  }

  async updateOrigins(projectId: string, allowedOrigins: string[] | null | undefined) {
    const project = await this.projects.update(projectId, { allowedOrigins });
    if (!project) throw new FlywheelError('NOT_FOUND', `no project ${projectId}`);
    this.keyCache.forgetProject(projectId);
    return projectView(project);
  }
}
