import { createWriteStream } from 'node:fs';
import { Command } from 'commander';
import { ApiClient, CliError, EXIT, Progress } from './api-client';

type Out = (human: string, json: unknown) => void;

/** `flywheel models …`: train, evaluate, list, show, download and promote reward models through the API. */
export function registerModelCommands(program: Command, client: () => ApiClient, out: (json: boolean) => Out): void {
  const models = program.command('models').description('reward models: train, list, show, download, promote');

  models.command('list').description('model versions, newest first').option('--json', 'print JSON').action(async (opts) => {
    const rows = await client().json<any[]>('GET', '/v1/models');
    out(opts.json)(rows.map((m) => `v${m.version}  ${m.id}  ${m.kind.padEnd(6)}  ${m.status.padEnd(10)}  acc=${fmt(m.metrics?.test?.accuracy)}  ${m.statusReason ?? ''}`).join('\n') || 'no models yet', rows);
  });

  models.command('show <id>').description('a model, its metrics and its card').option('--json', 'print JSON').action(async (id, opts) => {
    const model = await client().json('GET', `/v1/models/${id}`);
    out(opts.json)(JSON.stringify(model, null, 2), model);
  });

  models.command('card <id>').description('the model card as markdown').action(async (id) => {
    await client().download(`/v1/models/${id}/card.md`, process.stdout, () => undefined);
  });

  models
    .command('train')
    .description('train a reward model on the project\'s current feedback (queued; the trainer runs it)')
    .option('--kind <kind>', 'linear or mlp', 'mlp')
    .option('--hidden <widths>', 'MLP hidden layers, e.g. 64 or 128,64', '64')
    .option('--ties', 'model ties (Davidson)')
    .option('--seed <n>', 'seed', '1')
    .option('--preference-set <id>', "train on this ready preference set's pairs and splits (reproducible)")
    .option('--no-promote', 'leave the new model a candidate')
    .option('--no-wait', 'return once queued')
    .option('--json', 'print JSON')
    .action(async (opts) => {
      const api = client();
      const body = {
        kind: opts.kind, hiddenLayers: String(opts.hidden).split(',').map(Number), ties: opts.ties ? 'davidson' : 'none',
        seed: Number(opts.seed), promote: opts.promote, ...(opts.preferenceSet ? { preferenceSetId: opts.preferenceSet } : {}),
      };
      let job = await api.json('POST', '/v1/models/train', body);
      if (!opts.wait) return out(opts.json)(`queued training job ${job.id}`, job);
      const progress = new Progress('training', opts.json);
      while (job.status === 'queued' || job.status === 'running') {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        job = await api.json('GET', `/v1/models/jobs/${job.id}`);
        const p = job.progress ?? {};
        progress.update(null, job.status === 'queued' ? 'waiting for a trainer (is it running? npm run start:trainer)' : `${p.stage ?? ''} ${p.epoch ? `epoch ${p.epoch} val loss ${fmt(p.validationLoss)}` : ''}`);
      }
      progress.done(job.status);
      if (job.status === 'failed') throw new CliError(job.error ?? 'training failed', EXIT.failed);
      const model = await api.json('GET', `/v1/models/${job.modelId}`);
      out(opts.json)(`model v${model.version} (${model.id}): ${model.status}; test accuracy ${fmt(model.metrics?.test?.accuracy)}; ${model.statusReason ?? ''}`, model);
    });

  models
    .command('promote <id>')
    .description('promote if the gate finds it significantly not worse and better on the same frozen pairs (or --force with --reason)')
    .option('--force', 'promote regardless (needs --reason)')
    .option('--reason <text>', 'why')
    .option('--margin <x>', 'the observed accuracy gain must exceed this', '0')
    .option('--json', 'print JSON')
    .action(async (id, opts) => {
      if (opts.force && !opts.reason) throw new CliError('--force needs --reason "<why>"', EXIT.usage);
      const decision = await client().json('POST', `/v1/models/${id}/promote`, { force: Boolean(opts.force), reason: opts.reason, margin: Number(opts.margin) });
      out(opts.json)(`${decision.promoted ? 'promoted' : 'not promoted'}: ${decision.reason}`, decision);
      if (!decision.promoted) process.exitCode = EXIT.rejected;
    });

  models
    .command('download <id>')
    .description('download the ONNX file')
    .option('-o, --output <file>', 'where to write it', 'reward-model.onnx')
    .action(async (id, opts) => {
      const progress = new Progress(`downloading ${opts.output}`);
      const bytes = await client().download(`/v1/models/${id}/onnx`, createWriteStream(opts.output), (n) => progress.update(null, `${(n / 1024).toFixed(0)} KiB`));
      progress.done(`${bytes} bytes`);
      process.stderr.write(`wrote ${opts.output} (${bytes} bytes)\n`);
    });
}

function fmt(x: unknown): string {
  return typeof x === 'number' ? x.toFixed(4) : '-';
}
