// The VM page's Snapshots tab in a real browser, on a real tiny guest with a disk: take a running snapshot
// (with RAM), revert to it (the guest resumes, no reboot), remove it; re-provision gives the VM a fresh disk
// and boots it again.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect as baseExpect, sessionCookie, test, trpcCall } from './harness.ts';

const expect = baseExpect.configure({ timeout: 30_000 });
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

test('snapshots from the VM page: take with RAM, revert without a reboot, remove; re-provision boots a fresh disk', async ({ page, panel }) => {
  test.setTimeout(10 * 60_000);
  const guest = execFileSync(path.join(ROOT, 'scripts/build-test-guest.sh'), ['x86_64'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim().split('\n').at(-1)!;
  const base = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pvs-')), 'base.raw');
  execFileSync('qemu-img', ['create', '-q', '-f', 'raw', base, '32M']);
  const cookie = await sessionCookie(panel);
  const name = `e2e-snap-${Date.now().toString(36)}`;
  const log = async () => (await trpcCall<{ data: string }>(panel, cookie, 'query', 'vm.log', { name, offset: 0, limit: 1 << 20 })).data;
  const boots = async () => ((await log()).match(/PVMLAB-GUEST-READY/g) ?? []).length;
  try {
    await trpcCall(panel, cookie, 'mutation', 'vm.create', { name, boot: 'kernel', kernel: `${guest}/vmlinuz`, initrd: `${guest}/initrd.img`, image: base,
      memory: '256M', append: `console=ttyS0 pvmlab.hostname=${name}` });
    await trpcCall(panel, cookie, 'mutation', 'vm.start', { name });
    await expect.poll(boots, { timeout: 120_000 }).toBe(1);

    await page.goto(`/vms/${name}/snapshots`);
    await expect(page.getByTestId('vm-tab-snapshots')).toHaveAttribute('aria-current', 'page');
    await expect(page.getByText('The VM runs: a snapshot keeps its RAM')).toBeVisible();
    // A bad name is refused as you type, with the rule.
    await page.getByTestId('snapshot-name').fill('Bad_Name');
    await expect(page.getByTestId('snapshot-name-error')).toContainText('snapshot names use 1–32 characters');
    await expect(page.getByTestId('snapshot-take')).toBeDisabled();
    await page.getByTestId('snapshot-name').fill('first');
    await page.getByTestId('snapshot-take').click();
    const rowFirst = page.locator('[data-testid="snapshots"] tr[data-snapshot="first"]');
    await expect(rowFirst).toContainText('with RAM');

    await rowFirst.getByTestId('snapshot-revert').click();
    await expect(page.getByText(`${name} reverted (running)`)).toBeVisible();
    expect(await boots()).toBe(1); // resumed, not rebooted

    await rowFirst.getByTestId('snapshot-remove').click();
    await expect(rowFirst).toHaveCount(0);

    await page.getByTestId('vm-reprovision').click();
    await expect.poll(async () => (await log()).includes('=== pvmlab: re-provision (fresh disk)'), { timeout: 60_000 }).toBe(true);
    await expect.poll(async () => { const l = await log(); return l.slice(l.lastIndexOf('re-provision (fresh disk)')).includes('PVMLAB-GUEST-READY'); }, { timeout: 120_000 }).toBe(true);
    await expect(page.getByTestId('vm-status').locator('[data-status]')).toHaveAttribute('data-status', 'running');
  } finally {
    await trpcCall(panel, cookie, 'mutation', 'vm.clean', { name }).catch(() => {});
    fs.rmSync(path.dirname(base), { recursive: true, force: true });
  }
});
