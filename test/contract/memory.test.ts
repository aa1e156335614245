import { MemoryBackend, MemoryLocker } from '../helpers/memory-locker.js';
import { lockerSuite } from './locker-suite.js';

// The suite checks itself against the tests' in-memory locker.
lockerSuite('in-memory (test helper)', async () => {
  const backend = new MemoryBackend();
  return { newLocker: () => new MemoryLocker(backend), leaseMs: 100 };
});
