// The Playwright suite: real Chromium (Debian's) against one real panel started by e2e/global-setup.ts.
// See the top of e2e/harness.ts for how a run works and what fixtures specs get.
import { defineConfig } from '@playwright/test';
import { CHROMIUM, CHROMIUM_ARGS } from './e2e/harness.ts';

export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results',
  // One panel, one lab: specs share it and run one at a time (VM specs boot guests under TCG).
  workers: 1,
  fullyParallel: false,
  retries: 0,
  forbidOnly: true,
  timeout: 120_000,
  expect: { timeout: 10_000 },
  globalSetup: './e2e/global-setup.ts',
  reporter: [['list']],
  use: {
    browserName: 'chromium',
    launchOptions: { executablePath: CHROMIUM, args: CHROMIUM_ARGS },
    // Never fetch anything but loopback: no service workers caching across runs either.
    serviceWorkers: 'block',
    trace: 'retain-on-failure',
    actionTimeout: 15_000,
    navigationTimeout: 30_000,
  },
});
