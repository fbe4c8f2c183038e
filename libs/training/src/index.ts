export * from './model-promotion';
export * from './training';
export * from './per-user-pairs';
