// The import rules of DESIGN.md, checked on every full `npm test` (deploy/lint.sh) and by `npm run lint`.
// Drivers stay behind their libs; apps and libs meet only through public entry points (libs/<lib>/src/index.ts,
// and for tests libs/<lib>/src/testing.ts). process.env is not an import: deploy/lint.sh checks it.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'apps-never-import-apps',
      severity: 'error',
      comment: 'An app is a deployable: what two apps share belongs in a lib.',
      from: { path: '^apps/([^/]+)/' },
      to: { path: '^apps/', pathNot: '^apps/$1/' },
    },
    {
      name: 'libs-never-import-apps',
      severity: 'error',
      from: { path: '^libs/' },
      to: { path: '^apps/' },
    },
    {
      name: 'only-database-imports-typeorm-and-pg',
      severity: 'error',
      comment: 'libs/database owns the PostgreSQL driver and TypeORM (migrations are its TypeORM migrations); tests and '
        + "scripts use @flywheel/database(/testing). test/bench/ measures the driver's own ceilings (COPY, WAL) with pg.",
      from: { path: '^(apps|libs|test|scripts)/', pathNot: ['^libs/database/', '^test/bench/'] },
      to: { path: '^node_modules/(typeorm|pg|pg-copy-streams|pg-[a-z-]+|@nestjs/typeorm)/' },
    },
    {
      name: 'only-kafka-imports-kafkajs',
      severity: 'error',
      comment: 'Tests and scripts too: they reach Kafka through @flywheel/kafka.',
      from: { path: '^(apps|libs|test|scripts)/', pathNot: '^libs/kafka/' },
      to: { path: '^node_modules/kafkajs/' },
    },
    {
      name: 'no-deep-imports-into-another-lib',
      severity: 'error',
      comment: "Import a lib by its name (@flywheel/<lib>), which is its src/index.ts, never one of its files.",
      from: { path: '^(apps|libs)/([^/]+)/' },
      to: { path: '^libs/', pathNot: ['^libs/$2/', '^libs/[^/]+/src/index\\.ts$', '^libs/[^/]+/src/testing\\.ts$'] },
    },
    {
      name: 'tests-and-scripts-use-public-entries',
      severity: 'error',
      comment: 'Tests, benchmarks and scripts import a lib by its name too (or its testing entry), never one of its files.',
      from: { path: '^(test|scripts)/' },
      to: { path: '^libs/', pathNot: ['^libs/[^/]+/src/index\\.ts$', '^libs/[^/]+/src/testing\\.ts$'] },
    },
    {
      name: 'testing-entries-only-in-tests',
      severity: 'error',
      comment: 'libs/<lib>/src/testing.ts (oracles, fixtures) is for specs and tests, never production code.',
      from: { path: '^(apps|libs)/', pathNot: ['\\.spec\\.ts$', '\\.testing\\.ts$', '/testing\\.ts$'] },
      to: { path: '(\\.testing\\.ts|/testing\\.ts)$' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: { path: '^(apps|libs)/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['^dist/', '^test/fixtures/'] },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
