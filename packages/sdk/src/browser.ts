/// <reference lib="dom" />
import { FlywheelClient, FlywheelOptions } from './client';
import { LocalStorageQueueStore } from './local-storage-store';

export { FlywheelClient, newEventId } from './client';
export { LocalStorageQueueStore } from './local-storage-store';
export { FlywheelError } from './types';

/**
 * A client for a web app: its queue in localStorage (per endpoint, so a reload or a new key finds it), sent in
 * keepalive requests when the page is hidden or goes away, and retried at once when the browser is back online.
 */
export function init(options: FlywheelOptions & { storageKey?: string }): FlywheelClient {
  const client = new FlywheelClient({ store: new LocalStorageQueueStore(options.storageKey ?? `flywheel:${options.endpoint}`), ...options });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') client.flushOnHide();
  });
  addEventListener('pagehide', () => client.flushOnHide());
  addEventListener('online', () => client.retryNow());
  return client;
}
