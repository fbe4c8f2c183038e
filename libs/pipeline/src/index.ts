export * from './signal-pipeline';
export * from './quantiles-cache';
export * from './rebuild';
export * from './model-promotion';
export * from './training';
export * from './preference-sets';
export { parallelExport, exportWorkerScript, type ParallelExportOptions } from './parallel-export';
