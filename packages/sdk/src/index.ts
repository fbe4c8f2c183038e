export { FlywheelClient, newEventId, retryAfterMs } from './client';
export type { FlywheelOptions } from './client';
export { MemoryQueueStore } from './memory-store';
export * from './types';
