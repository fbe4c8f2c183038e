export * from './preference-sets';
export { parallelExport, type ParallelExportOptions } from './parallel-export';
