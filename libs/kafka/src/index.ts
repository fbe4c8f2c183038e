export * from './kafka-client';
export * from './topics';
export * from './publisher';
export * from './batch-consumer';
export * from './partitioner';
export * from './kafka.module';
