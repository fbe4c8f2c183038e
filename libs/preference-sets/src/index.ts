export * from './preference-sets';
export { parallelExport, exportWorkerScript, type ParallelExportOptions } from './parallel-export';
