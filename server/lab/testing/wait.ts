// Test helper: wait for a condition with a generous deadline (tests wait on conditions, never on fixed sleeps).
export async function waitFor(cond: () => boolean, ms = 20_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try { if (cond()) return; } catch { /* not yet */ }
    if (Date.now() > end) throw new Error(`${what} not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
