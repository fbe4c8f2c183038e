export * from './error-codes';
export * from './failure-class';
export * from './flywheel-error';
export * from './classify-failure';
