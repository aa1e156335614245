import { defineConfig } from 'vitest/config';

/**
 * The in-process tests only, for Stryker (`npm run test:mutation`): no global build, no redis-server,
 * no child process. They cover src/server and src/shared, the code Stryker mutates.
 */
export default defineConfig({
  test: {
    include: ['test/server/**/*.test.ts', 'test/shared/**/*.test.ts', 'test/contract/memory.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    retry: 0,
  },
});
