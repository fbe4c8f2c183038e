export * from './events';
export * from './topics';
export * from './decode';
export * from './signal-state';
export * from './signal-fold';
export * from './field-rules';
export * from './feedback-batch';
export * from './generation-batch';
