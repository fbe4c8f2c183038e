import { createHash } from 'node:crypto';
import { createWriteStream, writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { ApiClient, CliError, EXIT, Progress } from './api-client';

type Out = (human: string, json: unknown) => void;
const list = (value: string) => value.split(',').map((s) => s.trim()).filter(Boolean);

/** `flywheel sets …` (preference sets) and `flywheel generators …` (lineage), through the API. */
export function registerSetCommands(program: Command, client: () => ApiClient, out: (json: boolean) => Out): void {
  const sets = program.command('sets').description('preference sets: build, list, show, export, publish');

  sets
    .command('build')
    .description('build an immutable preference-set snapshot and wait until it is ready')
    .option('--from <iso>', 'observations from').option('--to <iso>', 'observations before')
    .option('--model-versions <list>', 'comma-separated generator versions', list)
    .option('--categories <list>', 'comma-separated', list).option('--segments <list>', 'comma-separated', list)
    .option('--scopes <list>', 'request,prompt,session', list)
    .option('--min-margin <x>', 'minimum satisfaction margin', Number)
    .option('--no-ties', 'drop near-ties instead of keeping them as ties')
    .option('--reward-model', 'add reward-model-ranked data for requests without enough observed evidence')
    .option('--max-pairs <n>', 'at most this many pairs', Number)
    .option('--split <split>', 'only train, validation or test')
    .option('--seed <n>', 'seed for sampling and splits', Number)
    .option('--json', 'print JSON')
    .action(async (opts) => {
      const api = client();
      const body = {
        from: opts.from, to: opts.to, modelVersions: opts.modelVersions, categories: opts.categories, segments: opts.segments,
        scopes: opts.scopes, minMargin: opts.minMargin, includeTies: opts.ties, rewardModel: opts.rewardModel,
        maxPairs: opts.maxPairs, split: opts.split, seed: opts.seed,
      };
      let set = await api.json('POST', '/v1/preference-sets', body);
      const progress = new Progress('building', opts.json);
      const queuedSince = Date.now();
      let hinted = false;
      while (set.status === 'queued' || set.status === 'building') { // the trainer builds it
        progress.update(null, `${set.id} ${set.status}`);
        if (!hinted && set.status === 'queued' && Date.now() - queuedSince > 15_000) {
          hinted = true;
          process.stderr.write(`\nset ${set.id} is still queued after 15 s: sets are built by the trainer; is one running? (npm run start:trainer)\n`);
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
        set = await api.json('GET', `/v1/preference-sets/${set.id}`);
      }
      progress.done(set.status);
      if (set.status === 'failed') throw new CliError(`building the set failed: ${set.error}`, EXIT.failed);
      const c = set.manifest.counts;
      out(opts.json)(`preference set ${set.id}: ${c.pairs} pairs (${Object.entries(c.bySplit).map(([k, v]) => `${k} ${v}`).join(', ')}), ${c.ties} ties, ${c.rankings} ranked requests; sha256 ${set.contentSha256}`, set);
    });

  sets.command('list').description('preference sets, newest first').option('--json', 'print JSON').action(async (opts) => {
    const rows = await client().json<any[]>('GET', '/v1/preference-sets');
    out(opts.json)(rows.map((s) => `${s.id}  ${s.status.padEnd(8)}  ${String(s.manifest?.counts?.pairs ?? '-').padStart(8)} pairs  ${new Date(s.createdAt).toISOString()}`).join('\n') || 'no preference sets yet', rows);
  });

  sets.command('show <id>').description('a set and its manifest').option('--json', 'print JSON').action(async (id, opts) => {
    const set = await client().json('GET', `/v1/preference-sets/${id}`);
    out(opts.json)(JSON.stringify(set, null, 2), set);
  });

  sets
    .command('export <id>')
    .description('stream a set to a file in a trainer-ready format; says what it holds and what it left out (ties, unlabelled pairs)')
    .requiredOption('--format <format>', 'dpo-jsonl | pairs-jsonl | videoalign-csv | ranked-jsonl | parquet | kto-jsonl | groups-jsonl')
    .option('-o, --output <file>', 'file to write (default: stdout); a <file>.manifest.json beside it names the set, its hash and how to fetch it again')
    .option('--split <split>', 'only train, validation or test')
    .option('--path-template <template>', 'videoalign-csv, kto-jsonl, groups-jsonl: each video as this path, e.g. videos/{videoId}.mp4')
    .option('--path-prefix <prefix>', 'shorthand for --path-template <prefix>{videoId}.mp4')
    .option('--overall', 'videoalign-csv: add the overall column (for --eval_dim overall)')
    .option('--seed <n>', 'videoalign-csv: seed of the balanced A/B order')
    .option('--group-by <what>', 'groups-jsonl: request (default) or prompt')
    .option('--json', 'print the summary as JSON (on stderr when the export goes to stdout)')
    .action(async (id, opts) => {
      if (opts.pathTemplate !== undefined && opts.pathPrefix !== undefined) throw new CliError('give --path-template or --path-prefix, not both', EXIT.usage);
      const query = new URLSearchParams({ format: opts.format });
      if (opts.split) query.set('split', opts.split);
      const template = opts.pathPrefix !== undefined ? `${opts.pathPrefix}{videoId}.mp4` : opts.pathTemplate;
      if (template !== undefined) query.set('pathTemplate', template);
      if (opts.overall) query.set('overall', 'true');
      if (opts.seed !== undefined) query.set('seed', String(opts.seed));
      if (opts.groupBy) query.set('groupBy', opts.groupBy);
      const progress = new Progress(`exporting ${opts.format}`, !opts.output);
      const sink = opts.output ? createWriteStream(opts.output) : process.stdout;
      const hash = createHash('sha256');
      let headers: Headers | null = null;
      const bytes = await client().download(`/v1/preference-sets/${id}/export?${query}`, sink, (n) => progress.update(null, `${(n / 1048576).toFixed(1)} MiB`), (h) => { headers = h; }, (chunk) => hash.update(chunk));
      progress.done(`${bytes} bytes`);
      const h = headers as Headers | null;
      const count = (name: string) => Number(h?.get(`x-flywheel-${name}`) ?? NaN);
      const summary = {
        schema: 'flywheel.export.v1', setId: h?.get('x-flywheel-set-id') ?? id, contentSha256: h?.get('x-flywheel-content-sha256') ?? null,
        format: opts.format, split: opts.split ?? null, source: h?.get('x-flywheel-source') ?? null, cli: h?.get('x-flywheel-cli') ?? null,
        rows: count('rows'), ties: count('ties'), tiesSkipped: count('ties-skipped'), unlabelledSkipped: count('unlabelled-skipped'),
        file: opts.output ?? null, bytes, sha256: hash.digest('hex'),
      };
      if (opts.output) writeFileSync(`${opts.output}.manifest.json`, `${JSON.stringify(summary, null, 2)}\n`);
      const human = `${opts.output ? `wrote ${opts.output} (${bytes} bytes)` : `exported ${bytes} bytes`} of set ${summary.setId} (sha256 ${summary.contentSha256}): ` +
        `${summary.rows} rows read, ${summary.ties} ties, ${summary.tiesSkipped} ties left out, ${summary.unlabelledSkipped} unlabelled pairs left out; ` +
        `again: ${summary.cli}${opts.output ? `; manifest ${opts.output}.manifest.json` : ''}\n`;
      // The export itself may be on stdout: the summary goes to stderr then.
      const write = (text: string) => (opts.output ? process.stdout.write(text) : process.stderr.write(text));
      write(opts.json ? `${JSON.stringify(summary)}\n` : human);
    });

  sets
    .command('publish <id>')
    .description('publish to Kafka flywheel.preferences.v1 (the trainer publishes; this waits, with progress)')
    .option('--no-wait', 'return once queued')
    .option('--json', 'print JSON')
    .action(async (id, opts) => {
      const api = client();
      let publication = await api.json('POST', `/v1/preference-sets/${id}/publish`);
      if (!opts.wait) return out(opts.json)(`queued publication ${publication.publicationId} of set ${id} (${publication.status})`, publication);
      const progress = new Progress('publishing', opts.json);
      const queuedSince = Date.now();
      let hinted = false;
      while (publication.status === 'queued' || publication.status === 'publishing') {
        progress.update(null, `${publication.messages} messages acknowledged${publication.status === 'queued' ? ' (queued)' : ''}`);
        if (!hinted && publication.status === 'queued' && Date.now() - queuedSince > 15_000) {
          hinted = true;
          process.stderr.write(`\npublication ${publication.publicationId} is still queued after 15 s: sets are published by the trainer; is one running? (npm run start:trainer)\n`);
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
        publication = await api.json('GET', `/v1/preference-sets/${id}/publications/${publication.publicationId}`);
      }
      progress.done(publication.status);
      if (publication.status === 'failed') throw new CliError(`publishing the set failed: ${publication.error} (run it again to resume)`, EXIT.failed);
      out(opts.json)(`published ${publication.messages} messages to ${publication.topic}`, publication);
    });

  const generators = program.command('generators').description('generator versions and what they were trained on');
  generators
    .command('register')
    .requiredOption('--model <name>').requiredOption('--version <version>')
    .option('--parent <version>', 'the version it was fine-tuned from')
    .option('--trained-on <setIds>', 'comma-separated preference set ids', list)
    .option('--notes <text>')
    .option('--json', 'print JSON')
    .action(async (opts) => {
      const row = await client().json('POST', '/v1/generators', { model: opts.model, modelVersion: opts.version, parentVersion: opts.parent, trainedOn: opts.trainedOn, notes: opts.notes });
      out(opts.json)(`registered ${row.model} ${row.modelVersion}${row.parentVersion ? ` (from ${row.parentVersion})` : ''}`, row);
    });
  generators.command('list').option('--json', 'print JSON').action(async (opts) => {
    const rows = await client().json<any[]>('GET', '/v1/generators');
    out(opts.json)(rows.map((g) => `${g.model} ${g.modelVersion}  parent=${g.parentVersion ?? '-'}  trained on ${g.trainedOn.length} set(s)`).join('\n') || 'no generator versions yet', rows);
  });
  generators
    .command('compare <baseline> <candidate>')
    .description('did the candidate version satisfy users more than the baseline?')
    .option('--json', 'print JSON')
    .action(async (baseline, candidate, opts) => {
      const result = await client().json('GET', `/v1/metrics/compare?baseline=${encodeURIComponent(baseline)}&candidate=${encodeURIComponent(candidate)}`);
      const lines = result.metrics.map((m: any) => `${m.metric.padEnd(14)} ${fmt(m.baseline.value)} → ${fmt(m.candidate.value)}  Δ ${fmt(m.difference.value)} [${fmt(m.difference.low)}, ${fmt(m.difference.high)}]  p=${m.pValue === null ? '-' : Number(m.pValue).toPrecision(2)}${m.significant ? '  significant' : ''}`);
      out(opts.json)(lines.join('\n'), result);
    });
}

function fmt(x: unknown): string {
  return typeof x === 'number' ? x.toFixed(4) : '-';
}
