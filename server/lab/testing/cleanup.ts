// Test helper: undo what a test made — processes, servers, temp dirs — last first, after each test.
// Importing it registers the afterEach hook in the importing test file.
import fs from 'node:fs';
import { afterEach } from 'vitest';

const cleanups: (() => unknown)[] = [];
afterEach(async () => { for (const f of cleanups.splice(0).reverse()) await f(); });

/** Run fn after the current test (awaited; in reverse order of registration). */
export function onCleanup(fn: () => unknown): void { cleanups.push(fn); }

/** A short temp dir (unix socket paths must fit) removed after the test. */
export function tmpDir(): string {
  const d = fs.mkdtempSync('/tmp/pvt-');
  onCleanup(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}
