// One test run for the whole repository. The global setup starts a throwaway Temporal dev server
// and Postgres on free ports (nothing shared with a running `npm start`) and tears them down.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'engine/**/*.test.ts',
      'activities/**/*.test.ts',
      'templates/**/*.test.ts',
      'builder-ui/src/**/*.test.{ts,tsx}',
    ],
    // The fault suite runs real processes and kills them: `npm run test:faults` (vitest.faults.config.ts).
    exclude: ['**/node_modules/**', '**/dist/**', 'builder-ui/e2e/**', 'engine/test/faults/**'],
    globalSetup: ['engine/test/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // Two cores: more files at once only makes each slower and timing-sensitive tests flaky.
    maxWorkers: 2,
  },
});
