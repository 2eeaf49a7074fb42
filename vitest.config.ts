import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['src/polyfill/index.ts'],
    testTimeout: 60_000,
    pool: 'forks',
  },
});
