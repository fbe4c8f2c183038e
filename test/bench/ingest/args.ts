import { EVENTS_TABLES, EventsTable } from './events-table';

/** The command line of bench:ingest (documented at the top of ../ingest.bench.ts). */
export interface Args {
  events: number;
  clients: number;
  batchMin: number;
  batchMax: number;
  dupRate: number;
  seed: number;
  profile: boolean;
  /** Send through @flywheel/sdk's Node build instead of raw fetch (one SDK client per --clients). */
  sdk: boolean;
  /** Extra node flags for the api and worker children only, e.g. "--max-semi-space-size=32". */
  childNodeOptions: string;
  /** The shape of feedback_events measured (./events-table.ts). */
  eventsTable: EventsTable;
}

export function parseArgs(argv: string[]): Args {
  const value = (name: string, fallback: number, min: number): number => {
    const i = argv.indexOf(`--${name}`);
    if (i < 0) return fallback;
    const parsed = Number(argv[i + 1]);
    if (!Number.isFinite(parsed) || parsed < min) throw new Error(`--${name} needs a number ≥ ${min}`);
    return parsed;
  };
  const args: Args = {
    events: Math.round(value('events', 200_000, 1000)),
    clients: Math.round(value('clients', 8, 1)),
    batchMin: Math.round(value('batch-min', 500, 1)),
    batchMax: Math.round(value('batch-max', 1000, 1)),
    dupRate: value('dup-rate', 0.01, 0),
    seed: Math.round(value('seed', 42, 0)),
    profile: argv.includes('--profile'),
    sdk: argv.includes('--sdk'),
    childNodeOptions: argv.includes('--child-node-options') ? argv[argv.indexOf('--child-node-options') + 1] ?? '' : '',
    eventsTable: (argv.includes('--events-table') ? argv[argv.indexOf('--events-table') + 1] : 'daily') as EventsTable,
  };
  if (!EVENTS_TABLES.includes(args.eventsTable)) throw new Error(`--events-table needs one of ${EVENTS_TABLES.join(', ')}`);
  if (args.batchMax > 1000 || args.batchMin > args.batchMax) throw new Error('need --batch-min ≤ --batch-max ≤ 1000');
  return args;
}
