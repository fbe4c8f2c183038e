export * from './data-source';
export * from './database.module';
export * from './projects.repository';
export * from './ingest.repository';
export * from './read.repository';
export * from './api-keys';
export * from './satisfaction.repository';
