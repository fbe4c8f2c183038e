export * from './signal-pipeline';
export * from './quantiles-cache';
export * from './rebuild';
export * from './deletion';
