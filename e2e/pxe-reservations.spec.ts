// The PXE page adds a reservation for any MAC (not only VMs pvmlab created), says that a reservation
// without a profile boots nothing until it gets one, and removes it. No VM is started: the host keeps
// the reservations; a provisioner record (never started) is what makes the page show them.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect as baseExpect, sessionCookie, test, trpcCall, trpcQuery } from './harness.ts';

const expect = baseExpect.configure({ timeout: 30_000 });
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

test('add a reservation for any MAC on the PXE page; no profile reads "boots nothing until it gets one" there and on a target\'s page; remove it', async ({ page, panel }) => {
  test.setTimeout(180_000);
  const cookie = await sessionCookie(panel);
  const guest = execFileSync(path.join(ROOT, 'scripts/build-test-guest.sh'), ['x86_64'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim().split('\n').at(-1)!;
  const name = `e2e-pxe-${Date.now().toString(36)}`;
  await trpcCall(panel, cookie, 'mutation', 'vm.create', { name, role: 'provisioner', boot: 'kernel', kernel: `${guest}/vmlinuz`, initrd: `${guest}/initrd.img`, memory: '256M' });
  try {
    await page.goto('/pxe');
    const form = page.getByTestId('add-reservation');
    await form.getByLabel('MAC').fill('52-54-00-AA-BB-CC');
    await form.getByLabel('IP').fill('192.168.100.31');
    await form.getByLabel('Hostname').fill('metal1');
    await expect(form.getByLabel('boot the default live profile')).toBeDisabled(); // the provisioner does not run
    await form.getByRole('button', { name: 'Add reservation' }).click();
    const row = page.locator('tr').filter({ hasText: '52:54:00:aa:bb:cc' });
    await expect(row).toContainText('192.168.100.31');
    await expect(row.getByTestId('profile')).toHaveText('none — boots nothing until it gets one');
    expect(await trpcQuery(panel, 'pxe.reservations.list', cookie)).toContainEqual({ mac: '52:54:00:aa:bb:cc', ip: '192.168.100.31', hostname: 'metal1', profile: { kind: 'exit' } });
    // bad input lands as an error, nothing is added
    await form.getByLabel('MAC').fill('01:00:5e:00:00:01');
    await form.getByLabel('IP').fill('192.168.100.32');
    await form.getByLabel('Hostname').fill('metal2');
    await form.getByRole('button', { name: 'Add reservation' }).click();
    await expect(page.getByText(/unicast MAC/)).toBeVisible();
    await row.getByRole('button', { name: 'Remove' }).click();
    await expect(row).toHaveCount(0);

    // a PXE target created without a profile says so on its own page too
    await trpcCall(panel, cookie, 'mutation', 'vm.create', { name: `${name}-t`, boot: 'pxe', memory: '256M' });
    await page.goto(`/vms/${name}-t`);
    await expect(page.getByTestId('fact-profile')).toHaveText('none — boots nothing until it gets one');
  } finally {
    for (const n of [`${name}-t`, name]) await trpcCall(panel, cookie, 'mutation', 'vm.clean', { name: n }).catch(() => {});
  }
});
