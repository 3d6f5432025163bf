import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Two cores: files run in separate processes, a few at a time, so socket-heavy tests do not starve each other.
    pool: 'forks',
    maxWorkers: 2,
  },
});
