// "Start a lab" on the empty lab page, in a real browser against the real panel: the defaults shown and
// editable, the job's stages appear as they end (the same job as `pvmlab up`), the provisioner shows up in
// the topology, Cancel stops the job; and a run to the end: target1 PXE-booted, its web SSH console answers.
import { expect as baseExpect, sessionCookie, termLines, test, trpcCall, trpcQuery } from './harness.ts';

const expect = baseExpect.configure({ timeout: 30_000 });

test('Start a lab: defaults shown, stages as they end, the provisioner in the topology, Cancel', async ({ page, panel }) => {
  test.setTimeout(300_000);
  const cookie = await sessionCookie(panel);
  const vms = await trpcQuery<{ name: string }[]>(panel, 'vm.list', cookie);
  expect(vms, 'specs clean up after themselves: the lab is empty').toEqual([]);
  try {
    const card = page.getByTestId('start-lab');
    await expect(card).toBeVisible();
    await expect(card.getByTestId('start-lab-arch')).toHaveValue(process.arch === 'arm64' ? 'aarch64' : 'x86_64');
    await expect(card.getByTestId('start-lab-targets')).toHaveValue('1');
    await expect(card.getByTestId('start-lab-image')).toHaveValue('auto');
    await card.getByTestId('start-lab-image').selectOption('offline'); // tests never reach for the Ubuntu download
    await card.getByTestId('start-lab-button').click();

    const stage = (name: string) => card.getByTestId('start-lab-stage').filter({ hasText: new RegExp(`^\\S+${name}`) });
    await expect(stage('prov ssh')).toBeVisible({ timeout: 180_000 });
    for (const done of ['look at the lab', 'boot profile image', 'image', 'prov start']) await expect(stage(done)).toHaveAttribute('data-done', 'true');
    await expect(stage('prov ssh')).toHaveAttribute('data-done', 'false');
    await expect(page.locator('[data-testid="topo-vm"][data-vm="prov"]')).toBeVisible();
    await expect(card.getByText('provisioner image: asked for the offline image (built from Debian packages)')).toHaveCount(0); // only the last log line shows

    await card.getByTestId('start-lab-cancel').click();
    await expect(card.getByTestId('start-lab-job')).toHaveAttribute('data-state', 'cancelled', { timeout: 90_000 });
    await expect(card.getByRole('alert')).toHaveText('cancelled');
  } finally {
    for (const v of await trpcQuery<{ name: string }[]>(panel, 'vm.list', cookie)) await trpcCall(panel, cookie, 'mutation', 'vm.clean', { name: v.name });
  }
});

test('Start a lab to the end: every stage done, then target1\'s console page is a shell on the PXE-booted target', async ({ page, panel }) => {
  test.setTimeout(900_000); // a cold provisioner boot under TCG on 2 shared cores: 1.5–4 min, then the target
  const cookie = await sessionCookie(panel);
  expect(await trpcQuery<{ name: string }[]>(panel, 'vm.list', cookie), 'specs clean up after themselves: the lab is empty').toEqual([]);
  try {
    const card = page.getByTestId('start-lab');
    await card.getByTestId('start-lab-image').selectOption('offline');
    await card.getByTestId('start-lab-button').click();
    await expect(card.getByTestId('start-lab-job')).toHaveAttribute('data-state', 'done', { timeout: 840_000 });
    const stages = card.getByTestId('start-lab-stage');
    for (const name of ['prov container', 'target1 DHCP', 'target1 kernel', 'target1 ssh']) {
      await expect(stages.filter({ hasText: new RegExp(`^\\S+${name}`) })).toHaveAttribute('data-done', 'true');
    }
    // The target's console: the web SSH terminal, through the provisioner as jump host.
    await page.goto('/vms/target1/console');
    await expect.poll(async () => (await termLines(page, 'ssh')).some((l) => /^target1:\S*# ?$/.test(l)), { timeout: 120_000 }).toBe(true);
    await page.getByTestId('ssh-xterm').click();
    await page.keyboard.type('uname -n');
    await page.keyboard.press('Enter');
    await expect.poll(async () => (await termLines(page, 'ssh')).map((l) => l.trim()), { timeout: 30_000 }).toContain('target1');
    // Its boot on the Timeline tab: reached its marker, every stage of the PXE boot as a bar of the chart (ECharts, SVG).
    await page.getByTestId('vm-tab-timeline').click();
    await expect(page.getByTestId('timeline-diagnosis')).toHaveAttribute('data-ok', 'yes', { timeout: 60_000 });
    for (const id of ['firmware', 'dhcp', 'script', 'kernel-fetch', 'initrd-fetch', 'kernel', 'userspace']) {
      await expect(page.getByTestId('timeline-stages').locator(`tr[data-stage="${id}"]`)).toHaveAttribute('data-status', 'done');
    }
    await expect(page.getByTestId('timeline-chart').locator('svg')).toBeVisible();
    await expect(page.getByTestId('timeline-chart').locator('svg text', { hasText: 'kernel download' })).toHaveCount(1);
  } finally {
    for (const v of await trpcQuery<{ name: string }[]>(panel, 'vm.list', cookie)) await trpcCall(panel, cookie, 'mutation', 'vm.clean', { name: v.name });
  }
});
