export * from './events';
export * from './topics';
export * from './decode';
export * from './signal-state';
export * from './signal-fold';
export * from './feedback-batch';
