export * from './kafka-client';
export * from './topics';
export * from './publisher';
export * from './batch-consumer';
export * from './partition-watch';
export * from './partitioner';
export * from './kafka.module';
export * from './topic-tail';
