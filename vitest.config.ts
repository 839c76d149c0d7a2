import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['server/**/*.test.ts', 'scripts/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 300_000,
    // Integration tests boot real QEMU guests under TCG on a 2-core machine: run files one at a time.
    fileParallelism: false,
  },
  resolve: { alias: { '@': new URL('.', import.meta.url).pathname } },
});
