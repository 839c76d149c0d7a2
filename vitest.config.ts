import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['server/**/*.test.ts', 'scripts/**/*.test.ts', 'components/**/*.test.ts'],
    // Includes the PXE end-to-end (server/lab/provisioner/pxe.int.test.ts): the provisioner image is built
    // once (~15–25 min on 2 cores, cached by content hash), then the run takes ~6 min.
    exclude: ['**/node_modules/**'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 300_000,
    // Integration tests boot real QEMU guests under TCG on a 2-core machine: run files one at a time.
    fileParallelism: false,
  },
  resolve: { alias: { '@': new URL('.', import.meta.url).pathname } },
});
