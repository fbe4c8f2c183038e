/**
 * Posts a small, realistic sample through the public API: generation requests with four candidates each, and what
 * a few hundred users did with them. Used by `npm run quickstart`; prints a one-line JSON summary.
 *   node dist/scripts/send-samples.js --api http://127.0.0.1:8080 --key <ingest key> [--requests 40] [--dim 8]
 */
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    api: { type: 'string', default: 'http://127.0.0.1:8080' },
    key: { type: 'string' },
    requests: { type: 'string', default: '40' },
    dim: { type: 'string', default: '8' },
  },
});
if (!values.key) {
  process.stderr.write('send-samples: --key <ingest key> is required\n');
  process.exit(2);
}

let seed = 42;
const random = () => ((seed = (seed * 1664525 + 1013904223) % 4294967296) / 4294967296);
const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)];
const prompts = ['a corgi surfing at sunset', 'neon city street in the rain', 'timelapse of a blooming rose', 'astronaut cooking ramen', 'paper boat on a river'];
const categories = ['pets', 'travel', 'food', 'scifi'];

async function post(path: string, body: unknown): Promise<void> {
  const response = await fetch(`${values.api}${path}`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${values.key}` }, body: JSON.stringify(body),
  });
  if (response.status !== 202) throw new Error(`${path} answered ${response.status}: ${await response.text()}`);
}

async function main(): Promise<void> {
  const dim = Number(values.dim);
  const requests = Number(values.requests);
  const generations = [];
  const events = [];
  const now = Date.now();
  for (let r = 0; r < requests; r++) {
    const prompt = pick(prompts);
    const version = r % 2 ? 'seedance-1.1' : 'seedance-1.0';
    for (let c = 0; c < 4; c++) {
      const videoId = `sample-${r}-${c}`;
      const quality = random() + (version === 'seedance-1.1' ? 0.15 : 0);
      generations.push({
        videoId, requestId: `sample-req-${r}`, prompt, model: 'seedance', modelVersion: version, category: pick(categories),
        segment: pick(['creators', 'casual']), durationMs: 4000 + Math.floor(random() * 8000),
        features: Array.from({ length: dim }, (_, i) => (i === 0 ? quality : random() - 0.5)),
      });
      for (let u = 0; u < 3; u++) {
        const userId = `sample-user-${(r * 7 + u) % 97}`;
        const at = (s: number) => new Date(now - (requests - r) * 60_000 + s * 1000).toISOString();
        const base = { videoId, userId, requestId: `sample-req-${r}` };
        events.push({ ...base, eventId: `${videoId}-${u}-imp`, type: 'impression', occurredAt: at(0) });
        events.push({ ...base, eventId: `${videoId}-${u}-watch`, type: 'progress', watchMs: Math.floor(8000 * Math.min(1, quality)), durationMs: 8000, occurredAt: at(1) });
        if (quality > 0.7) events.push({ ...base, eventId: `${videoId}-${u}-like`, type: 'like', occurredAt: at(2) });
        if (quality > 0.9) events.push({ ...base, eventId: `${videoId}-${u}-export`, type: 'export', occurredAt: at(3) });
        if (quality < 0.2) events.push({ ...base, eventId: `${videoId}-${u}-regen`, type: 'regenerate', occurredAt: at(2) });
      }
    }
  }
  await post('/v1/generations', { generations });
  for (let i = 0; i < events.length; i += 1000) await post('/v1/events', { events: events.slice(i, i + 1000) });
  process.stdout.write(`${JSON.stringify({ generations: generations.length, events: events.length })}\n`);
}

main().catch((error: Error) => {
  process.stderr.write(`send-samples: ${error.message}\n`);
  process.exit(1);
});
