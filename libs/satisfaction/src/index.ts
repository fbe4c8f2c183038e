export * from './satisfaction-policy';
export * from './statistics';
export * from './watch-quantiles';
export * from './rollup-contribution';
export * from './cluster-moments';
export * from './clustered';
export * from './dimension-contribution';
