// The byte-stream pages in a real browser on real QEMU guests (TCG): the console log (live, search,
// boots), the serial console (typing, "not running", reconnect on start) and the web SSH terminal
// (prompt, reload reattaches to the same session, a new tab gets its own). The guest is the tiny
// Debian-built one (scripts/build-test-guest.sh, cached); VMs are made through the tRPC API.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Page } from '@playwright/test';
import { expect, keyHeader, keyProtocols, rawRequest, sessionCookie, termLines, test, trpcCall, wsOutcome, type PanelInfo } from './harness.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BOOT_MS = 90_000;

interface Guest { kernel: string; initrd: string }
let guest: Guest;
let cookie: string;
const made = new Set<string>();

const trpc = <T = unknown>(panel: PanelInfo, kind: 'query' | 'mutation', proc: string, input: unknown) => trpcCall<T>(panel, cookie, kind, proc, input);

function randomMac(): string {
  return `52:54:00:${[0, 0, 0].map(() => Math.floor(Math.random() * 256).toString(16).padStart(2, '0')).join(':')}`;
}

async function createVm(panel: PanelInfo, input: Record<string, unknown>): Promise<void> {
  made.add(input.name as string);
  await trpc(panel, 'mutation', 'vm.create', { boot: 'kernel', kernel: guest.kernel, initrd: guest.initrd, memory: '256M', ...input });
}

async function logText(panel: PanelInfo, name: string): Promise<string> {
  return (await trpc<{ data: string }>(panel, 'query', 'vm.log', { name, offset: 0, limit: 1 << 20 })).data;
}

async function cleanVm(panel: PanelInfo, name: string): Promise<void> {
  await trpc(panel, 'mutation', 'vm.clean', { name });
  made.delete(name);
}

async function typeIn(page: Page, label: 'serial' | 'ssh', text: string): Promise<void> {
  await page.getByTestId(`${label}-xterm`).click();
  await page.keyboard.type(text);
  await page.keyboard.press('Enter');
}

test.beforeAll(async ({ panel }) => {
  test.setTimeout(900_000); // the first build of the guest fetches Debian packages; later runs hit the cache
  const { stdout } = await promisify(execFile)(path.join(ROOT, 'scripts/build-test-guest.sh'), ['x86_64'], { maxBuffer: 16 << 20 });
  const dir = stdout.trim().split('\n').pop()!;
  guest = { kernel: path.join(dir, 'vmlinuz'), initrd: path.join(dir, 'initrd.img') };
  cookie = await sessionCookie(panel);
});

test.afterAll(async ({ panel }) => {
  for (const name of [...made]) await cleanVm(panel, name).catch(() => {});
});

test('the logs page fills live from power-on, and the serial console types into the booting VM', async ({ page, panel, context }) => {
  test.setTimeout(240_000);
  const name = 'tt-serial';
  await createVm(panel, { name, append: `console=ttyS0 pvmlab.hostname=${name}` });

  // Opened before the VM runs: the log is empty, the console says why it is not connected.
  await page.goto(`/vms/${name}/logs`);
  await expect(page.getByTestId('logs-state')).toHaveAttribute('data-phase', 'live');
  await expect(page.getByTestId('log-empty')).toBeVisible();
  const serial = await context.newPage();
  await serial.goto(`/vms/${name}/serial`);
  await expect(serial.getByTestId('serial-state')).toHaveAttribute('data-phase', 'closed');
  await expect(serial.getByTestId('serial-reason')).toHaveText(`VM '${name}' is stopped: start it first`);
  await expect(serial.getByTestId('serial-notice')).toContainText('The VM is stopped');

  await trpc(panel, 'mutation', 'vm.start', { name });

  // The log streams in while the guest boots, up to the READY marker (the newest lines are in view).
  const lines = page.getByTestId('log-lines');
  await expect(lines).toContainText(`PVMLAB-GUEST-READY hostname=${name} arch=x86_64`, { timeout: BOOT_MS });
  expect(Number(await lines.getAttribute('data-line-count'))).toBeGreaterThan(20);
  await expect(page.getByTestId('boot-count')).toHaveText('1');
  // What the page shows is what the file holds.
  expect(await logText(panel, name)).toContain(`PVMLAB-GUEST-READY hostname=${name}`);

  // Download: the whole file, byte for byte.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('log-download').click()]);
  expect(download.suggestedFilename()).toBe(`${name}-console.log`);
  const saved = fs.readFileSync(await download.path());
  const onDisk = fs.readFileSync(path.join(panel.home, 'logs', `${name}.log`));
  expect(saved.length).toBeGreaterThan(0);
  expect(onDisk.subarray(0, saved.length).equals(saved)).toBe(true);

  // Search: highlight, position, and jumping back to the top of the file.
  await page.getByTestId('log-search').fill('guest-ready');
  await page.getByTestId('log-search').press('Enter');
  await expect(page.getByTestId('log-search-count')).toHaveText('1 / 1');
  await expect(lines.locator('mark')).toHaveText(['GUEST-READY']);
  await expect(page.getByTestId('log-follow')).not.toBeChecked();
  await page.getByTestId('log-search').fill('pvmlab: power on');
  await page.getByTestId('log-search').press('Enter');
  await expect(page.getByTestId('log-search-count')).toHaveText('1 / 1');
  await expect(lines.getByTestId('boot-separator')).toContainText('new boot at');
  await page.getByTestId('log-end').click();
  await expect(page.getByTestId('log-follow')).toBeChecked();

  // The serial console connected by itself when the VM started; the shell on ttyS0 answers.
  await expect(serial.getByTestId('serial-state')).toHaveAttribute('data-phase', 'live', { timeout: 30_000 });
  await expect.poll(async () => (await termLines(serial, 'serial')).join('\n'), { timeout: BOOT_MS })
    .toContain(`PVMLAB-GUEST-READY hostname=${name}`);
  await typeIn(serial, 'serial', 'echo hi-$((40+2))');
  await expect.poll(async () => (await termLines(serial, 'serial')).map((l) => l.trim()), { timeout: 30_000 }).toContain('hi-42');
  // Typed bytes reached the guest, and the guest's echo reached the log file too.
  await expect.poll(() => logText(panel, name), { timeout: 10_000 }).toContain('hi-42');
  await expect(lines).toContainText('hi-42');

  // Copy (Ctrl+Shift+C copies xterm's selection) and paste (Ctrl+Shift+V, and the Paste button).
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: panel.baseURL });
  await serial.bringToFront();
  await serial.evaluate(() => navigator.clipboard.writeText('nothing yet'));
  await serial.evaluate(() => (document.querySelector('[data-testid="serial-xterm"]') as HTMLElement & { __xterm: import('@xterm/xterm').Terminal }).__xterm.selectAll());
  await serial.keyboard.press('Control+Shift+C');
  await expect.poll(() => serial.evaluate(() => navigator.clipboard.readText())).toContain('hi-42');
  await serial.evaluate(() => navigator.clipboard.writeText('echo pasted-$((2+3))'));
  await serial.getByTestId('serial-xterm').click();
  await serial.keyboard.press('Control+Shift+V');
  await serial.keyboard.press('Enter');
  await expect.poll(async () => (await termLines(serial, 'serial')).map((l) => l.trim()), { timeout: 30_000 }).toContain('pasted-5');
  await serial.evaluate(() => navigator.clipboard.writeText('echo button-$((3+4))'));
  await serial.getByRole('button', { name: 'Paste' }).click();
  // The button reads the clipboard asynchronously: Enter only once the pasted line is on the prompt.
  await expect.poll(async () => (await termLines(serial, 'serial')).some((l) => l.includes('echo button-$((3+4))')), { timeout: 30_000 }).toBe(true);
  await serial.keyboard.press('Enter');
  await expect.poll(async () => (await termLines(serial, 'serial')).map((l) => l.trim()), { timeout: 30_000 }).toContain('button-7');

  await cleanVm(panel, name);
});

test('the web SSH terminal: prompt, hostname, a reload reattaches to the same shell, a new tab gets its own', async ({ page, panel, context }) => {
  test.setTimeout(240_000);
  const name = 'tt-ssh';
  // No pvmlab.mac: the guest's init must tell the uplink (second NIC) from the private one by itself.
  await createVm(panel, { name, role: 'provisioner', sshUser: 'root', mac: randomMac(),
    append: `console=ttyS0 pvmlab.hostname=${name} pvmlab.uplink=dhcp` });
  await trpc(panel, 'mutation', 'vm.start', { name });

  // Opened while the guest boots: ssh fails until dropbear listens, and the page keeps trying.
  await page.goto(`/vms/${name}/console`);
  const prompt = `${name}:~# `;
  await expect.poll(async () => (await termLines(page, 'ssh')).some((l) => l.startsWith(prompt)), { timeout: BOOT_MS }).toBe(true);
  await expect(page.getByTestId('ssh-state')).toHaveAttribute('data-phase', 'live');
  const session = await page.evaluate((n) => sessionStorage.getItem(`pvmlab.ssh.${n}`), name);
  expect(session).toMatch(/^[0-9a-f]{24}$/);
  await typeIn(page, 'ssh', 'hostname');
  await expect.poll(async () => (await termLines(page, 'ssh')).map((l) => l.trim()), { timeout: 30_000 }).toContain(name);
  await typeIn(page, 'ssh', 'export MARK=kept-$((20+22))');

  // Reload: the same tab, the same session — the earlier output is replayed and the shell state is there.
  await page.reload();
  await expect(page.getByTestId('ssh-state')).toHaveAttribute('data-phase', 'live');
  await expect(page.getByTestId('ssh-info')).toHaveText('reattached');
  expect(await page.evaluate((n) => sessionStorage.getItem(`pvmlab.ssh.${n}`), name)).toBe(session);
  await expect.poll(async () => (await termLines(page, 'ssh')).map((l) => l.trim()), { timeout: 15_000 }).toContain(name);
  await typeIn(page, 'ssh', 'echo "$MARK"');
  await expect.poll(async () => (await termLines(page, 'ssh')).map((l) => l.trim()), { timeout: 30_000 }).toContain('kept-42');

  // The renderer: WebGL on a hardware GL, xterm's DOM renderer on a software one (this headless Chromium's
  // SwiftShader) or none (components/terminal/renderer.ts).
  const gl = await page.evaluate(() => {
    const g = document.createElement('canvas').getContext('webgl2');
    if (!g) return null;
    const i = g.getExtension('WEBGL_debug_renderer_info');
    return String(g.getParameter(i ? i.UNMASKED_RENDERER_WEBGL : g.RENDERER));
  });
  await expect(page.getByTestId('ssh-xterm')).toHaveAttribute('data-renderer', gl && !/swiftshader|llvmpipe|softpipe|software/i.test(gl) ? 'webgl' : 'dom');

  // Another tab is another session: a fresh shell without the variable — drawn by the WebGL renderer, forced.
  const other = await context.newPage();
  await other.addInitScript(() => localStorage.setItem('pvmlab.terminal.renderer', 'webgl'));
  await other.goto(`/vms/${name}/console`);
  await expect(other.getByTestId('ssh-xterm')).toHaveAttribute('data-renderer', gl ? 'webgl' : 'dom');
  if (gl) await expect(other.getByTestId('ssh-xterm').locator('.xterm-screen canvas').first()).toBeAttached();
  await expect.poll(async () => (await termLines(other, 'ssh')).some((l) => l.startsWith(prompt)), { timeout: 60_000 }).toBe(true);
  const otherSession = await other.evaluate((n) => sessionStorage.getItem(`pvmlab.ssh.${n}`), name);
  expect(otherSession).toMatch(/^[0-9a-f]{24}$/);
  expect(otherSession).not.toBe(session);
  await typeIn(other, 'ssh', 'echo "mark=[$MARK]"');
  await expect.poll(async () => (await termLines(other, 'ssh')).map((l) => l.trim()), { timeout: 30_000 }).toContain('mark=[]');

  await cleanVm(panel, name);
});

test('after stop and start, the logs page shows a new boot and the serial console reconnects', async ({ page, panel, context }) => {
  test.setTimeout(240_000);
  const name = 'tt-reboot';
  await createVm(panel, { name, append: `console=ttyS0 pvmlab.hostname=${name}` });
  await trpc(panel, 'mutation', 'vm.start', { name });
  await expect.poll(() => logText(panel, name), { timeout: BOOT_MS }).toContain('PVMLAB-GUEST-READY');

  await page.goto(`/vms/${name}/logs`);
  const lines = page.getByTestId('log-lines');
  await expect(lines).toContainText(`PVMLAB-GUEST-READY hostname=${name}`);
  await expect(page.getByTestId('boot-count')).toHaveText('1');
  await expect(page.getByTestId('boot-notice')).toHaveCount(0); // the boot before the page opened is no news
  const serial = await context.newPage();
  await serial.goto(`/vms/${name}/serial`);
  await expect(serial.getByTestId('serial-state')).toHaveAttribute('data-phase', 'live');

  const stop = await trpc<{ step: string }>(panel, 'mutation', 'vm.stop', { name });
  expect(stop.step).toBe('powerdown');
  await expect(lines).toContainText('PVMLAB-POWEROFF');
  await expect(serial.getByTestId('serial-state')).toHaveAttribute('data-phase', 'closed');
  await expect(serial.getByTestId('serial-reason')).toContainText('the serial port closed');
  await expect(serial.getByTestId('serial-notice')).toContainText('The VM is stopped');

  await trpc(panel, 'mutation', 'vm.start', { name });
  await expect(page.getByTestId('boot-notice')).toContainText('The VM restarted: new boot at', { timeout: 30_000 });
  await expect(page.getByTestId('boot-count')).toHaveText('2');
  await page.getByTestId('log-search').fill('PVMLAB-GUEST-READY');
  await expect.poll(async () => page.getByTestId('log-search-count').textContent(), { timeout: BOOT_MS }).toBe('0 / 2');
  await page.getByTestId('boot-notice-show').click();
  await expect(lines.getByTestId('boot-separator').last()).toContainText('new boot at');

  // The serial console came back on its own with the new boot, and works.
  await expect(serial.getByTestId('serial-state')).toHaveAttribute('data-phase', 'live', { timeout: 30_000 });
  await expect(serial.getByTestId('serial-notice')).toHaveCount(0);
  await expect.poll(async () => (await termLines(serial, 'serial')).join('\n'), { timeout: BOOT_MS }).toContain(`PVMLAB-GUEST-READY hostname=${name}`);
  await typeIn(serial, 'serial', 'echo again-$((6*7))');
  await expect.poll(async () => (await termLines(serial, 'serial')).map((l) => l.trim()), { timeout: 30_000 }).toContain('again-42');

  await cleanVm(panel, name);
});

test('a large log stays fast: a bounded window of rows in the DOM, old lines dropped with a note, search, download', async ({ page, panel }) => {
  test.setTimeout(180_000);
  const name = 'tt-biglog';
  await createVm(panel, { name, append: 'console=ttyS0' }); // never started: its log is written here
  const LINES = 260_000;
  const body: string[] = [];
  for (let i = 1; i <= LINES; i++) {
    body.push(i === 100 ? 'NEEDLE-EARLY dropped from view' : i === LINES - 10 ? 'NEEDLE-LATE still in view' : `line ${String(i).padStart(6, '0')} \x1b[32mok\x1b[0m ${'x'.repeat(60)}`);
  }
  const file = path.join(panel.home, 'logs', `${name}.log`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  // Not all of a console log is UTF-8 (firmware, line noise): the download must keep every byte as it is.
  // (invalid UTF-8 at the end of the first line: the line count stays LINES).
  const text = Buffer.from(`${body.join('\n')}\n`);
  const eol = text.indexOf(10);
  fs.writeFileSync(file, Buffer.concat([text.subarray(0, eol), Buffer.from([0xff, 0xfe, 0x80]), text.subarray(eol)]));
  const size = fs.statSync(file).size;
  expect(size).toBeGreaterThan(16 << 20);
  // The download route is under the guard like everything else, and takes VM names only.
  expect((await rawRequest({ port: panel.port, path: `/api/logs/${name}` })).status).toBe(401);
  expect((await rawRequest({ port: panel.port, path: '/api/logs/..%2Fconfigs%2Flab.json', headers: { cookie, ...keyHeader(panel) } })).status).toBe(400);
  // A malformed %-escape is a bad name, answered — not an exception in the panel (HTTP and the byte sockets alike).
  expect((await rawRequest({ port: panel.port, path: '/api/logs/%E0%A4%A', headers: { cookie, ...keyHeader(panel) } })).status).toBe(400);
  for (const prefix of ['/ws/logs/', '/ws/serial/', '/ws/ssh/']) {
    const out = await wsOutcome(`ws://127.0.0.1:${panel.port}${prefix}%E0%A4%A?session=abcdefgh12`, { cookie, origin: panel.baseURL }, undefined, 10_000, keyProtocols(panel));
    expect(out, prefix).toMatchObject({ kind: 'closed', code: 4400, reason: 'bad VM name: malformed %-escape in the path' });
  }
  expect((await rawRequest({ port: panel.port, path: '/api/logs/no-such-vm', headers: { cookie, ...keyHeader(panel) } })).status).toBe(404);

  await page.goto(`/vms/${name}/logs`);
  const lines = page.getByTestId('log-lines');
  await expect(lines).toHaveAttribute('data-line-count', String(LINES), { timeout: 60_000 });
  await expect(lines).toContainText(`line ${String(LINES).padStart(6, '0')} ok`); // following: the end is in view, escapes gone
  expect(await lines.locator('[data-line]').count()).toBeLessThan(200);
  await expect(page.getByTestId('log-dropped')).toContainText('older lines were dropped from view');
  const first = Number(await lines.getAttribute('data-first-line'));
  expect(first).toBeGreaterThanOrEqual(LINES - 200_000);

  await page.getByTestId('log-search').fill('needle');
  await page.getByTestId('log-search').press('Enter');
  await expect(page.getByTestId('log-search-count')).toHaveText('1 / 1');
  await expect(lines.locator('mark')).toHaveText(['NEEDLE']);
  await expect(lines.locator(`[data-line="${LINES - 11}"]`)).toContainText('NEEDLE-LATE');

  // Scrolling to the top shows the oldest line still kept, and only a window of rows.
  await lines.evaluate((el) => { el.scrollTop = 0; });
  await expect(lines.locator(`[data-line="${first}"]`)).toBeVisible();
  expect(await lines.locator('[data-line]').count()).toBeLessThan(200);

  const [download] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.getByTestId('log-download').click()]);
  const saved = fs.readFileSync(await download.path());
  expect(saved.length).toBe(size);
  expect(saved.equals(fs.readFileSync(file))).toBe(true);

  await cleanVm(panel, name);
});
