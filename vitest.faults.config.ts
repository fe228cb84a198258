// The fault suite (`npm run test:faults`): real Temporal, Postgres, API and worker processes that
// the tests kill and restart. One file at a time: the scenarios measure recovery, and two of them
// competing for two cores would only measure each other.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['engine/test/faults/**/*.faults.test.ts'],
    testTimeout: 900_000,
    hookTimeout: 300_000,
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
  },
});
