export * from './preference-sets';
export * from './publication';
export { parallelExport, type ParallelExportOptions } from './parallel-export';
