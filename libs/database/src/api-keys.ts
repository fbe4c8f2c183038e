import { createHash, randomBytes } from 'node:crypto';
import { KeyKind, KeyRow, ProjectSettings, ProjectsRepository } from './projects.repository';

const PREFIX: Record<KeyKind, string> = { ingest: 'fw_ingest_', secret: 'fw_secret_' };

/** Keys are 256 random bits; only their SHA-256 is stored (invariant 6). */
export function hashKey(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

export function generateKey(kind: KeyKind): string {
  return PREFIX[kind] + randomBytes(32).toString('base64url');
}

/** What lists show of a key: its kind prefix and the first 6 random characters. */
export function keyPrefix(key: string): string {
  const kind = key.startsWith(PREFIX.ingest) ? 'ingest' : 'secret';
  return key.slice(0, PREFIX[kind].length + 6);
}

export async function issueKey(repo: ProjectsRepository, projectId: string, kind: KeyKind): Promise<{ keyId: string; key: string; kind: KeyKind; prefix: string }> {
  const key = generateKey(kind);
  const keyId = await repo.addKey(projectId, kind, hashKey(key), keyPrefix(key));
  return { keyId, key, kind, prefix: keyPrefix(key) };
}

/** A new key of the same kind; the old one keeps working for `overlapSeconds`. Null if `keyId` is not an active key. */
export async function rotateKey(
  repo: ProjectsRepository, projectId: string, keyId: string, overlapSeconds: number,
): Promise<{ old: KeyRow; created: KeyRow; key: string } | null> {
  return repo.rotateKey(projectId, keyId, overlapSeconds, (kind) => {
    const key = generateKey(kind);
    return { key, hash: hashKey(key), prefix: keyPrefix(key) };
  });
}

export interface CreatedProject {
  projectId: string;
  name: string;
  featureDim: number;
  ratingDimensions: string[];
  ingestKey: string;
  secretKey: string;
}

export async function createProjectWithKeys(
  repo: ProjectsRepository, name: string, featureDim: number, settings: ProjectSettings = {},
): Promise<CreatedProject> {
  const project = await repo.create(name, featureDim, settings);
  const ingest = await issueKey(repo, project.id, 'ingest');
  const secret = await issueKey(repo, project.id, 'secret');
  return { projectId: project.id, name: project.name, featureDim: project.featureDim, ratingDimensions: project.ratingDimensions, ingestKey: ingest.key, secretKey: secret.key };
}
