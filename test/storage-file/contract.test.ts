import { FileStorageAdapter } from '../../src/storage-file/index.js';
import { lockerSuite } from '../contract/locker-suite.js';
import { cleanup, tempDir } from './helpers.js';

// Each locker is its own adapter (its own holders, watcher and handles), as another process would be.
// stale 2000 (proper-lockfile's minimum, renewals every 1000 ms): the suite holds locks 2.5 x that.
lockerSuite('file', async () => {
  const directory = tempDir('contract');
  const adapters: FileStorageAdapter[] = [];
  return {
    newLocker: () => {
      const adapter = new FileStorageAdapter({ directory, lockerOptions: { stale: 2000 } });
      adapters.push(adapter);
      return adapter.locker;
    },
    leaseMs: 2000,
    close: async () => {
      await Promise.all(adapters.map((adapter) => adapter.close()));
      cleanup();
    },
  };
});
