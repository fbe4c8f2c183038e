export * from './model-promotion';
export * from './training';
