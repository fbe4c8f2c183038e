import { createHash, randomBytes } from 'node:crypto';
import { KeyKind, ProjectsRepository } from './projects.repository';

const PREFIX: Record<KeyKind, string> = { ingest: 'fw_ingest_', secret: 'fw_secret_' };

/** Keys are 256 random bits; only their SHA-256 is stored (invariant 6). */
export function hashKey(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

export function generateKey(kind: KeyKind): string {
  return PREFIX[kind] + randomBytes(32).toString('base64url');
}

export async function issueKey(repo: ProjectsRepository, projectId: string, kind: KeyKind): Promise<{ keyId: string; key: string }> {
  const key = generateKey(kind);
  const keyId = await repo.addKey(projectId, kind, hashKey(key), key.slice(0, PREFIX[kind].length + 6));
  return { keyId, key };
}

export interface CreatedProject {
  projectId: string;
  name: string;
  featureDim: number;
  ingestKey: string;
  secretKey: string;
}

export async function createProjectWithKeys(repo: ProjectsRepository, name: string, featureDim: number): Promise<CreatedProject> {
  const project = await repo.create(name, featureDim);
  const ingest = await issueKey(repo, project.id, 'ingest');
  const secret = await issueKey(repo, project.id, 'secret');
  return { projectId: project.id, name: project.name, featureDim: project.featureDim, ingestKey: ingest.key, secretKey: secret.key };
}
