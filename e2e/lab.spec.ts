// The lab page and the VM pages in a real browser against the real panel, with real QEMU guests (the tiny
// test guest from scripts/build-test-guest.sh, direct kernel boot under TCG): the create form (validation
// as you type, server errors per field), the VM table and the topology picture, start / stop / clean, live
// status pushed through the subscription socket (a second tab follows without doing anything), the VM page
// with its recent console lines, bookmarkable sub-routes, and a crash seen within seconds without a reload.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Locator, Page } from '@playwright/test';
import { expect as baseExpect, sessionCookie, test, trpcCall, trpcQuery, type PanelInfo } from './harness.ts';

// Pages here share two cores with TCG guests and the panel: give waits for a page to become ready room.
// Assertions about how fast something is pushed keep their own explicit, short timeouts.
const expect = baseExpect.configure({ timeout: 30_000 });

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const READY = (name: string) => `PVMLAB-GUEST-READY hostname=${name} arch=x86_64`;

interface VmLite {
  name: string; role: string; status: string; memoryMiB: number; boot: string; kernel: string | null; initrd: string | null; append: string | null;
  mac: string; uplinkMac: string | null; sshPort: number | null; privateIp: string | null;
}

let guest = '';
const created = new Set<string>();

function uniqueName(kind: string): string {
  return `e2e-${kind}-${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
}

async function listVms(panel: PanelInfo, cookie: string): Promise<VmLite[]> {
  return trpcQuery<VmLite[]>(panel, 'vm.list', cookie);
}

const trpcMutation = <T = unknown>(panel: PanelInfo, cookie: string, proc: string, input: unknown) => trpcCall<T>(panel, cookie, 'mutation', proc, input);

/** The create form filled for the tiny test guest (direct kernel boot, 256M). */
async function fillTinyGuest(dialog: Locator, name: string): Promise<void> {
  await dialog.getByLabel('Name', { exact: true }).fill(name);
  await dialog.getByLabel('Boot').selectOption('kernel');
  await dialog.getByLabel('Kernel', { exact: true }).fill(`${guest}/vmlinuz`);
  await dialog.getByLabel('Initrd').fill(`${guest}/initrd.img`);
  await dialog.getByLabel('Kernel command line').fill(`console=ttyS0 pvmlab.hostname=${name}`);
  await dialog.getByLabel('Memory').fill('256M');
}

function row(page: Page, name: string): Locator {
  return page.locator(`[data-testid="vm-row"][data-vm="${name}"]`);
}
function rowStatus(page: Page, name: string): Locator {
  return row(page, name).getByTestId('vm-status').locator('[data-status]');
}
function topoNode(page: Page, name: string): Locator {
  return page.locator(`[data-testid="topo-vm"][data-vm="${name}"]`);
}
function headerStatus(page: Page): Locator {
  return page.getByTestId('vm-status').locator('[data-status]');
}

/** Both the table row and the topology node of `name` on the lab page show `status`. */
async function expectLabStatus(page: Page, name: string, status: string, timeout = 30_000): Promise<void> {
  await expect(rowStatus(page, name), `${name} row on ${page.url()}`).toHaveAttribute('data-status', status, { timeout });
  await expect(topoNode(page, name), `${name} topology node on ${page.url()}`).toHaveAttribute('data-status', status, { timeout });
}

test.beforeAll(() => {
  test.setTimeout(15 * 60_000); // a cold build downloads Debian packages; cached it takes seconds
  const out = execFileSync(path.join(ROOT, 'scripts/build-test-guest.sh'), ['x86_64'], {
    cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20,
  });
  guest = out.trim().split('\n').at(-1)!.trim();
  for (const f of ['vmlinuz', 'initrd.img', 'manifest.json']) {
    expect(fs.existsSync(path.join(guest, f)), `${guest}/${f}`).toBe(true);
  }
});

test.afterEach(async ({ panel }) => {
  if (!created.size) return;
  const cookie = await sessionCookie(panel);
  const names = new Set((await listVms(panel, cookie)).map((v) => v.name));
  for (const name of created) {
    if (names.has(name)) await trpcMutation(panel, cookie, 'vm.clean', { name });
  }
  created.clear();
});

test('create a target from the form, start, stop and clean it; a second tab follows every change live', async ({ page, panel }) => {
  test.setTimeout(300_000);
  const cookie = await sessionCookie(panel);
  const name = uniqueName('ui');
  const before = (await listVms(panel, cookie)).map((v) => v.name);

  // A second tab on the lab page that never acts: everything it shows must be pushed to it.
  const watcher = await page.context().newPage();
  expect((await watcher.goto('/'))?.status()).toBe(200);
  await expect(watcher.getByTestId('topology')).toHaveAttribute('data-layout', 'ready');

  // Create from the form.
  await page.getByTestId('create-target').click();
  const dialog = page.getByTestId('create-vm-dialog');
  await expect(dialog).toBeVisible();
  await expect(dialog.getByLabel('Name', { exact: true })).toBeFocused();
  await fillTinyGuest(dialog, name);
  await expect(dialog.locator('[data-testid^="field-error-"]')).toHaveCount(0);
  created.add(name);
  await dialog.getByTestId('create-submit').click();
  await expect(dialog).toBeHidden();

  // It is on disk with what the form said…
  const rec = (await listVms(panel, cookie)).find((v) => v.name === name);
  expect(rec, `vm.list after create: ${before.join(', ')}`).toBeDefined();
  expect(rec).toMatchObject({ memoryMiB: 256, boot: 'kernel', kernel: `${guest}/vmlinuz`, initrd: `${guest}/initrd.img`, append: `console=ttyS0 pvmlab.hostname=${name}`, status: 'stopped' });
  // …and in the table and the topology of both tabs.
  for (const p of [page, watcher]) {
    await expectLabStatus(p, name, 'stopped');
    await expect(topoNode(p, name)).toContainText(name);
  }

  // Start: running, in both tabs.
  await row(page, name).getByTestId('vm-start').click();
  for (const p of [page, watcher]) await expectLabStatus(p, name, 'running', 30_000);

  // The VM page, through the name in the table: its recent console lines show the guest booted.
  await row(page, name).getByTestId('vm-link').click();
  await expect(page).toHaveURL(`${panel.baseURL}/vms/${name}`);
  await expect(page.getByTestId('vm-name')).toHaveText(name);
  await expect(headerStatus(page)).toHaveAttribute('data-status', 'running');
  await expect(page.getByTestId('vm-log-tail')).toContainText(READY(name), { timeout: 120_000 });
  await expect(page.getByTestId('fact-memory')).toHaveText('256 MiB');
  // The accelerator it really runs with (read from the live QEMU), which is the one the doctor proved.
  const doctor = await trpcQuery(panel, 'host.doctor', cookie) as { accelerators: { x86_64: { accelerator: string; cpu: string } } };
  await expect(page.getByTestId('fact-accel')).toHaveText(`${doctor.accelerators.x86_64.accelerator} -cpu ${doctor.accelerators.x86_64.cpu}`);

  // Every sub-route, opened directly in a fresh page, names the right VM with its live status.
  for (const [sub, tab] of [['', 'overview'], ['/logs', 'logs'], ['/serial', 'serial'], ['/console', 'console']]) {
    const p = await page.context().newPage();
    const res = await p.goto(`/vms/${name}${sub}`);
    expect(res?.status(), `/vms/${name}${sub}`).toBe(200);
    await expect(p.getByTestId('vm-name')).toHaveText(name);
    await expect(p.getByTestId('vm-name')).toHaveAttribute('data-loaded', 'yes');
    await expect(headerStatus(p)).toHaveAttribute('data-status', 'running');
    await expect(p.getByTestId(`vm-tab-${tab}`)).toHaveAttribute('aria-current', 'page');
    await p.close();
  }

  // Stop from the VM page (ACPI power button; the guest powers off): stopped, in both tabs.
  await page.getByTestId('vm-stop').click();
  await expect(headerStatus(page)).toHaveAttribute('data-status', 'stopped', { timeout: 60_000 });
  await expectLabStatus(watcher, name, 'stopped');

  // Clean from the lab table, behind a confirmation that Escape dismisses.
  await page.getByRole('link', { name: 'Lab', exact: true }).first().click();
  await expect(page).toHaveURL(`${panel.baseURL}/`);
  await row(page, name).getByTestId('vm-clean').click();
  const confirm = page.getByTestId('confirm-clean');
  await expect(confirm).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(confirm).toBeHidden();
  await expect(row(page, name)).toHaveCount(1);
  await row(page, name).getByTestId('vm-clean').click();
  await confirm.getByTestId('confirm').click();
  for (const p of [page, watcher]) {
    await expect(row(p, name)).toHaveCount(0);
    await expect(topoNode(p, name)).toHaveCount(0);
  }
  expect((await listVms(panel, cookie)).map((v) => v.name)).toEqual(before);
  created.delete(name);
  await watcher.close();
});

test('bad input shows each field’s error as you type, server errors land on their field, and nothing is created', async ({ page, panel }) => {
  const cookie = await sessionCookie(panel);
  const before = (await listVms(panel, cookie)).map((v) => v.name);
  const createCalls: string[] = [];
  page.on('request', (r) => { if (r.url().includes('vm.create')) createCalls.push(r.url()); });

  const opener = page.getByTestId('create-target');
  await opener.click();
  const dialog = page.getByTestId('create-vm-dialog');
  await expect(dialog).toBeVisible();
  await dialog.getByLabel('Name', { exact: true }).fill('Bad Name');
  await dialog.getByLabel('MAC address').fill('zz');
  await dialog.getByLabel('Private IP').fill('10.0.0.1');
  await dialog.getByLabel('Memory').fill('1T');
  // Each error shows while typing, before any submit.
  await expect(dialog.getByTestId('field-error-name')).toHaveText('use 1–32 characters: a lowercase letter first, then lowercase letters, digits or "-"');
  await expect(dialog.getByTestId('field-error-mac')).toHaveText('use six hex pairs, e.g. 52:54:00:12:34:56');
  await expect(dialog.getByTestId('field-error-ip')).toHaveText('10.0.0.1 is outside the private network 192.168.100.0/24: use one of 192.168.100.2–192.168.100.99 or 192.168.100.201–192.168.100.254');
  await expect(dialog.getByTestId('field-error-memory')).toHaveText('use a size like 512M or 2G');
  for (const label of ['Name', 'MAC address', 'Private IP', 'Memory']) {
    await expect(dialog.getByLabel(label, { exact: true })).toHaveAttribute('aria-invalid', 'true');
  }
  // A valid field has no error.
  await expect(dialog.getByTestId('field-error-cpus')).toHaveCount(0);

  // Submitting sends nothing and puts the cursor on the first bad field.
  await dialog.getByTestId('create-submit').click();
  await expect(dialog).toBeVisible();
  await expect(dialog.getByLabel('Name', { exact: true })).toBeFocused();
  expect(createCalls).toEqual([]);

  // The dialog keeps keyboard focus inside it.
  for (let i = 0; i < 25; i++) {
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => !!document.activeElement?.closest('[data-testid="create-vm-dialog"]')), `Tab #${i + 1} stays in the dialog`).toBe(true);
  }

  // Fixed on the client but wrong for the server (no such kernel file): the server's error lands on its field.
  const name = uniqueName('bad');
  await dialog.getByLabel('Name', { exact: true }).fill(name);
  await dialog.getByLabel('MAC address').fill('');
  await dialog.getByLabel('Private IP').fill('');
  await dialog.getByLabel('Memory').fill('256M');
  await dialog.getByLabel('Boot').selectOption('kernel');
  await dialog.getByLabel('Kernel', { exact: true }).fill('/nonexistent/pvmlab-e2e/vmlinuz');
  await expect(dialog.locator('[data-testid^="field-error-"]')).toHaveCount(0);
  created.add(name); // in case the server wrongly accepts it
  await dialog.getByTestId('create-submit').click();
  await expect(dialog.getByTestId('field-error-kernel')).toHaveText('no such file: /nonexistent/pvmlab-e2e/vmlinuz');
  await expect(page.getByRole('alert').filter({ hasText: 'kernel: no such file' })).toBeVisible();
  expect(createCalls).toHaveLength(1);
  // Editing the field clears the server's error.
  await dialog.getByLabel('Kernel', { exact: true }).fill(`${guest}/vmlinuz-nope`);
  await expect(dialog.getByTestId('field-error-kernel')).toHaveCount(0);

  // Escape closes the dialog and gives focus back to the button that opened it.
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await expect(opener).toBeFocused();
  expect((await listVms(panel, cookie)).map((v) => v.name)).toEqual(before);
  await expect(row(page, name)).toHaveCount(0);
});

test('a VM whose QEMU is killed from outside shows "crashed" on its page and the lab page within 3 s, without a reload', async ({ page, panel }) => {
  test.setTimeout(240_000);
  const cookie = await sessionCookie(panel);
  const name = uniqueName('crash');
  created.add(name);
  await trpcMutation(panel, cookie, 'vm.create', {
    name, boot: 'kernel', kernel: `${guest}/vmlinuz`, initrd: `${guest}/initrd.img`, append: `console=ttyS0 pvmlab.hostname=${name}`, memory: '256M',
  });
  await trpcMutation(panel, cookie, 'vm.start', { name });

  const lab = page; // the lab page, open since sign-in
  await expectLabStatus(lab, name, 'running', 30_000);
  const vmPage = await page.context().newPage();
  expect((await vmPage.goto(`/vms/${name}`))?.status()).toBe(200);
  await expect(headerStatus(vmPage)).toHaveAttribute('data-status', 'running');
  await expect(vmPage.getByTestId('vm-log-tail')).toContainText(READY(name), { timeout: 120_000 });

  // Marks that a reload would wipe.
  for (const p of [lab, vmPage]) await p.evaluate(() => { (window as unknown as { __noReload: boolean }).__noReload = true; });

  const pidFile = path.join(panel.home, 'pids', `${name}.pid`);
  const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
  expect(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'), 'the pid file names this VM’s QEMU').toContain(panel.home);
  process.kill(pid, 'SIGKILL');

  await Promise.all([
    expect(headerStatus(vmPage)).toHaveAttribute('data-status', 'crashed', { timeout: 3_000 }),
    expect(rowStatus(lab, name)).toHaveAttribute('data-status', 'crashed', { timeout: 3_000 }),
    expect(topoNode(lab, name)).toHaveAttribute('data-status', 'crashed', { timeout: 3_000 }),
  ]);
  for (const p of [lab, vmPage]) {
    expect(await p.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload), `no reload of ${p.url()}`).toBe(true);
  }
  // The VM page says why, with the console's last lines.
  await expect(vmPage.getByTestId('vm-crash')).toBeVisible();
  await expect(vmPage.getByTestId('crash-log')).toContainText(READY(name));

  // Clean it from its own page: back to the lab, gone everywhere.
  await vmPage.getByTestId('vm-clean').click();
  await vmPage.getByTestId('confirm-clean').getByTestId('confirm').click();
  await expect(vmPage).toHaveURL(`${panel.baseURL}/`);
  for (const p of [lab, vmPage]) {
    await expect(row(p, name)).toHaveCount(0);
    await expect(topoNode(p, name)).toHaveCount(0);
  }
  expect((await listVms(panel, cookie)).map((v) => v.name)).not.toContain(name);
  created.delete(name);
  await vmPage.close();
});

test('a VM page for a name the lab does not have says so and links home; Clean lab needs the word typed', async ({ page }) => {
  for (const bad of ['no-such-vm', 'Bad%20Name']) {
    expect((await page.goto(`/vms/${bad}`))?.status()).toBe(200);
    await expect(page.getByTestId('vm-missing')).toContainText(`No VM named ${decodeURIComponent(bad)}`);
    await page.getByTestId('home-link').click();
    await expect(page.getByTestId('lab-title')).toHaveText('Lab');
  }
  await page.getByTestId('clean-lab').click();
  const dialog = page.getByTestId('clean-lab-dialog');
  const go = dialog.getByTestId('clean-lab-confirm');
  await expect(go).toBeDisabled();
  await dialog.getByLabel(/Type clean to confirm/).fill('clea');
  await expect(go).toBeDisabled();
  await dialog.getByLabel(/Type clean to confirm/).fill('clean');
  await expect(go).toBeEnabled();
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toBeHidden();
});

test('the topology draws the provisioner with both NICs and its containers; its readiness job shows live progress and cancels', async ({ page, panel }) => {
  test.setTimeout(240_000);
  const cookie = await sessionCookie(panel);
  const name = uniqueName('prov');
  const config = await trpcQuery<{ network: { provisionerIp: string; subnet: string } }>(panel, 'lab.config', cookie);
  await expect(page.getByTestId('topology')).toHaveAttribute('data-layout', 'ready');
  if (!(await listVms(panel, cookie)).some((v) => v.role === 'provisioner')) {
    await expect(page.getByTestId('topo-no-provisioner')).toBeVisible();
    await expect(page.getByTestId('empty-provisioner')).toBeVisible();
  }

  // Create it from the form (kernel boot of the test guest: quick, and enough to draw it).
  await page.getByTestId('create-provisioner').click();
  const dialog = page.getByTestId('create-vm-dialog');
  await expect(dialog.getByLabel('Boot')).toHaveValue('disk');
  await expect(dialog.getByLabel('Boot').locator('option')).toHaveText(['disk', 'kernel']); // a provisioner cannot PXE-boot
  await fillTinyGuest(dialog, name);
  created.add(name);
  await dialog.getByTestId('create-submit').click();
  await expect(dialog).toBeHidden();

  const vm = (await listVms(panel, cookie)).find((v) => v.name === name)!;
  expect(vm, 'the provisioner is listed').toBeDefined();
  expect(vm.privateIp).toBe(config.network.provisionerIp);
  const node = page.locator(`[data-testid="topo-vm"][data-vm="${name}"][data-kind="provisioner"]`);
  await expect(node).toHaveAttribute('data-status', 'stopped');
  await expect(node.getByTestId('topo-private-nic')).toHaveText(`${vm.mac}  ${config.network.provisionerIp}`);
  await expect(node).toContainText(vm.uplinkMac!);
  await expect(node.getByTestId('topo-ssh-forward')).toHaveText(`127.0.0.1:${vm.sshPort} → :22`);
  for (const part of ['topo-docker', 'topo-pxeboot']) {
    await expect(page.getByTestId(part)).toHaveAttribute('data-parent', `vm:${name}`);
    await expect(page.getByTestId(part)).toHaveAttribute('data-status', 'stopped');
  }
  await expect(page.getByTestId('topo-privnet')).toContainText(config.network.subnet);
  await expect(page.getByTestId('topo-no-provisioner')).toHaveCount(0);
  await expect(row(page, name).locator('td').nth(4)).toHaveText(`127.0.0.1:${vm.sshPort}`);
  await expect(page.getByTestId('create-provisioner')).toBeDisabled();

  // Starting it starts its readiness job: pushed to the page with a progress bar, and cancellable.
  await row(page, name).getByTestId('vm-start').click();
  const job = page.locator('[data-testid="job"][data-state="running"]').filter({ hasText: `Provisioner ${name}` });
  await expect(job).toBeVisible({ timeout: 30_000 });
  await expect(job.getByRole('progressbar')).toBeVisible();
  await job.getByRole('button', { name: /^cancel/i }).click();
  await expect(page.locator('[data-testid="job"][data-state="cancelled"]').filter({ hasText: `Provisioner ${name}` })).toBeVisible({ timeout: 60_000 });
  await expect(job).toHaveCount(0);
});

test('the create form offers firmware and UEFI HTTP Boot; the VM page shows its firmware and boot path', async ({ page, panel }) => {
  const cookie = await sessionCookie(panel);
  const name = uniqueName('efi');
  expect((await page.goto('/'))?.status()).toBe(200);
  await page.getByTestId('create-target').click();
  const dialog = page.getByTestId('create-vm-dialog');
  await dialog.getByLabel('Name', { exact: true }).fill(name);
  await dialog.getByLabel('Architecture').selectOption('x86_64');
  await dialog.getByLabel('Boot', { exact: true }).selectOption('pxe');
  // BIOS by default; UEFI brings Secure Boot and the network boot choice; aarch64 has no firmware choice (always UEFI).
  await expect(dialog.getByLabel('Firmware')).toHaveValue('bios');
  await expect(dialog.getByLabel('Network boot')).toHaveCount(0);
  await dialog.getByLabel('Firmware').selectOption('uefi');
  await expect(dialog.getByLabel('Secure Boot')).toHaveValue('off');
  await dialog.getByLabel('Network boot').selectOption('http');
  await dialog.getByLabel('Architecture').selectOption('aarch64');
  await expect(dialog.getByLabel('Firmware')).toHaveCount(0);
  await dialog.getByLabel('Architecture').selectOption('x86_64');
  await dialog.getByLabel('Memory').fill('256M');
  created.add(name);
  await dialog.getByTestId('create-submit').click();
  await expect(dialog).toBeHidden();
  const rec = (await trpcQuery<{ name: string; firmware?: string; secureBoot?: boolean; netboot?: string }[]>(panel, 'vm.list', cookie)).find((v) => v.name === name);
  expect(rec).toMatchObject({ firmware: 'uefi', secureBoot: false, netboot: 'http' });
  await page.goto(`/vms/${name}`);
  await expect(page.getByTestId('fact-firmware')).toHaveText('UEFI (OVMF), HTTP Boot');
  // Never booted: the page says the path is not known yet (it is read from dnsmasq's log once it DHCPs).
  await expect(page.getByTestId('fact-bootpath')).toContainText('not seen yet');
});
