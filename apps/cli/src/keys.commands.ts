import { Command, InvalidArgumentError } from 'commander';
import { ApiClient } from './api-client';

type Out = (human: string, json: unknown) => void;

function kind(value: string): string {
  if (value !== 'ingest' && value !== 'secret') throw new InvalidArgumentError('must be ingest or secret');
  return value;
}

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 30 * 24 * 3600) throw new InvalidArgumentError('must be a whole number of seconds between 0 and 2592000 (30 days)');
  return n;
}

const when = (value: string | null) => (value ? new Date(value).toISOString().replace('.000Z', 'Z') : '-');

/** `flywheel keys …`: the project's API keys through the API, with its secret key. */
export function registerKeyCommands(program: Command, client: () => ApiClient, out: (json: boolean) => Out): void {
  const keys = program.command('keys').description("the project's API keys: list, create, revoke, rotate (needs its secret key)");

  keys.command('list').description('prefix, kind, created, last used (approximate), state').option('--json', 'print JSON').action(async (opts) => {
    const { keys: rows } = await client().json<{ keys: any[] }>('GET', '/v1/project/keys');
    const state = (k: any) => (k.revokedAt ? 'revoked' : !k.active ? 'expired' : k.expiresAt ? `expires ${when(k.expiresAt)}` : 'active');
    out(opts.json)(rows.map((k) => `${k.keyId}  ${k.kind.padEnd(6)}  ${k.prefix}…  created ${when(k.createdAt)}  last used ${when(k.lastUsedAt)}  ${state(k)}`).join('\n'), rows);
  });

  keys
    .command('create')
    .description('issue another key (shown once; only its hash is stored)')
    .requiredOption('--kind <kind>', 'ingest (write-only, may ship in apps) or secret (read, export, admin)', kind)
    .option('--json', 'print JSON')
    .action(async (opts) => {
      const created = await client().json('POST', '/v1/project/keys', { kind: opts.kind });
      out(opts.json)(`${created.kind} key ${created.keyId}: ${created.key}\nShown once; only its hash is stored.`, created);
    });

  keys.command('revoke <keyId>').description('revoke a key (other api processes stop accepting it within the key-cache TTL)').option('--json', 'print JSON')
    .action(async (keyId, opts) => {
      const revoked = await client().json('DELETE', `/v1/project/keys/${encodeURIComponent(keyId)}`);
      out(opts.json)(`revoked ${keyId}`, revoked);
    });

  keys
    .command('rotate <keyId>')
    .description('a new key of the same kind; the old one keeps working for the overlap window')
    .option('--overlap <seconds>', 'how long the old key keeps working', seconds, 86400)
    .option('--json', 'print JSON')
    .action(async (keyId, opts) => {
      const rotated = await client().json('POST', `/v1/project/keys/${encodeURIComponent(keyId)}/rotate`, { overlapSeconds: opts.overlap });
      out(opts.json)(`new ${rotated.kind} key ${rotated.keyId}: ${rotated.key}\nthe old key ${keyId} stops working at ${when(rotated.replaces.expiresAt)}`, rotated);
    });

  program
    .command('origins')
    .description("browser origins allowed to post with the project's ingest keys (CORS)")
    .argument('[origins...]', 'e.g. https://editor.example.com; none given: show them')
    .option('--default', "use the api's default list (CORS_INGEST_ORIGINS)")
    .option('--json', 'print JSON')
    .action(async (origins: string[], opts) => {
      const api = client();
      const project = opts.default ? await api.json('PATCH', '/v1/project', { allowedOrigins: null })
        : origins.length ? await api.json('PATCH', '/v1/project', { allowedOrigins: origins })
          : await api.json('GET', '/v1/project');
      out(opts.json)(project.allowedOrigins ? project.allowedOrigins.join('\n') : "the api's default (CORS_INGEST_ORIGINS)", { allowedOrigins: project.allowedOrigins });
    });
}
