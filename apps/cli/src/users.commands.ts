import { Command } from 'commander';
import { ApiClient } from './api-client';

type Out = (human: string, json: unknown) => void;

interface DeletionView {
  jobId: string;
  kind: 'user' | 'project';
  status: 'queued' | 'running' | 'done' | 'failed';
  result: Record<string, any> | null;
  error: string | null;
}

/** Polls a deletion until it is done or failed. */
export async function waitForDeletion(api: ApiClient, path: string, first: DeletionView, pollMs = 500): Promise<DeletionView> {
  let view = first;
  while (view.status === 'queued' || view.status === 'running') {
    await new Promise((resolve) => setTimeout(resolve, pollMs));
    view = await api.json<DeletionView>('GET', path);
  }
  return view;
}

function summary(view: DeletionView): string {
  if (view.status !== 'done') return `deletion ${view.jobId}: ${view.status}${view.error ? ` (${view.error})` : ''}`;
  const r = view.result ?? {};
  const left = (r.setsAlreadyLeft ?? []) as { setId: string; exportedAt: string | null; publishedAt: string | null }[];
  return [
    `deletion ${view.jobId}: done — ${r.events} events, ${r.signalRows} signal rows removed; ${r.rollupRows} rollup rows corrected`,
    `  preference sets rebuilt from the remaining data: ${(r.setsRebuilt ?? []).length ? r.setsRebuilt.join(', ') : 'none'}`,
    `  preference sets that had already left (marked as containing deleted data; recall them downstream): ${left.length ? '' : 'none'}`,
    ...left.map((s) => `    ${s.setId}${s.exportedAt ? `  exported ${s.exportedAt}` : ''}${s.publishedAt ? `  published ${s.publishedAt}` : ''}`),
  ].join('\n');
}

/** `flywheel users delete <userId>`: a user's data, through the API with the project's secret key. */
export function registerUserCommands(program: Command, client: () => ApiClient, out: (json: boolean) => Out): void {
  const users = program.command('users').description("the project's end users (needs its secret key)");
  users
    .command('delete <userId>')
    .description('delete everything stored about one user (their raw id, as the app sends it); waits until done unless --no-wait')
    .option('--no-wait', 'print the job and return (poll it with `flywheel deletions show <jobId>`)')
    .option('--json', 'print JSON')
    .action(async (userId: string, opts: { wait: boolean; json?: boolean }) => {
      const api = client();
      const first = await api.json<DeletionView>('DELETE', `/v1/users/${encodeURIComponent(userId)}`);
      const view = opts.wait ? await waitForDeletion(api, `/v1/deletions/${first.jobId}`, first) : first;
      out(Boolean(opts.json))(summary(view), view);
      if (view.status === 'failed') process.exitCode = 1;
    });

  const deletions = program.command('deletions').description("the project's deletions (the audit trail)");
  deletions.command('list').description('which key deleted what, and when').option('--json', 'print JSON').action(async (opts) => {
    const { deletions: rows } = await client().json<{ deletions: (DeletionView & { requestedBy: string; requestedAt: string })[] }>('GET', '/v1/deletions');
    out(opts.json)(rows.map((d) => `${d.jobId}  ${d.kind.padEnd(7)}  ${d.status.padEnd(7)}  ${d.requestedAt}  by ${d.requestedBy}`).join('\n'), rows);
  });
  deletions.command('show <jobId>').description("a deletion's status and result").option('--json', 'print JSON').action(async (jobId: string, opts) => {
    const view = await client().json<DeletionView>('GET', `/v1/deletions/${encodeURIComponent(jobId)}`);
    out(opts.json)(summary(view), view);
  });
}
