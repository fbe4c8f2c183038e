import { FlywheelClient, FlywheelOptions } from './client';
import { FileQueueStore } from './file-store';

export * from './index';
export { FileQueueStore } from './file-store';

/** A client whose queue lives in `queueFile`: what a killed or restarted process had queued is sent by the next one. */
export function createNodeClient(options: FlywheelOptions & { queueFile: string }): FlywheelClient {
  return new FlywheelClient({ store: new FileQueueStore(options.queueFile), ...options });
}
