// The panel in a real browser: signing in with the launch URL, the Setup page (doctor), live updates
// through the tRPC subscription socket.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import type { WebSocket as PwWebSocket } from '@playwright/test';
import { COOKIE_NAME, expect, test } from './harness.ts';

const TOOLS = ['qemu-system-x86_64', 'qemu-system-aarch64', 'qemu-img', 'iso tool', 'ssh', 'ssh-keygen'];

/** What the doctor's probe proved on this host, through the CLI (the same cached probe the panel reads). */
function provenAccelerators(home: string): Record<'x86_64' | 'aarch64', { accelerator: string; cpu: string; tried: { accel: string; ok: boolean; symptom?: string }[] }> {
  const out = execFileSync('node', [path.resolve('bin/pvmlab.mjs'), 'doctor', '--json'], { env: { ...process.env, PVMLAB_HOME: home }, encoding: 'utf8' });
  return JSON.parse(out).doctor.accelerators;
}

test('the launch URL swaps its token for an HttpOnly SameSite=Strict cookie and redirects to the clean URL', async ({ context, panel }) => {
  const page = await context.newPage();
  const res = await page.goto(panel.launchUrl);
  expect(res, 'navigation response').not.toBeNull();

  // The first hop: 302 to the clean URL, setting the cookie.
  const first = res!.request().redirectedFrom();
  expect(first?.url()).toBe(panel.launchUrl);
  const hop = await first!.response();
  expect(hop?.status()).toBe(302);
  // The key travels to the page in the fragment (never sent to a server); the page keeps it and cleans the bar.
  expect(await hop!.headerValue('location')).toBe(`/#pvmlab-key=${panel.token}`);
  const setCookie = (await hop!.headerValue('set-cookie')) ?? '';
  expect(setCookie).toMatch(new RegExp(`^${COOKIE_NAME}=[^;]+;`));
  expect(setCookie).toMatch(/;\s*HttpOnly/i);
  expect(setCookie).toMatch(/;\s*SameSite=Strict/i);

  // The landing page: the lab, with no secret left in the address bar.
  expect(res!.status()).toBe(200);
  await expect.poll(() => page.url()).toBe(`${panel.baseURL}/`);
  const href = await page.evaluate(() => location.href);
  expect(href).toBe(`${panel.baseURL}/`);
  expect(href).not.toContain(panel.token);
  expect(href).not.toContain('token');
  await expect(page.getByTestId('lab-title')).toHaveText('Lab');

  // The cookie as the browser stored it.
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === COOKIE_NAME);
  expect(session, `cookies: ${JSON.stringify(cookies.map((c) => c.name))}`).toBeDefined();
  expect(session!.httpOnly).toBe(true);
  expect(session!.sameSite).toBe('Strict');
  expect(session!.domain).toBe('127.0.0.1');
  expect(session!.path).toBe('/');
  expect(session!.value.length).toBeGreaterThanOrEqual(32);
  expect(session!.value, 'the cookie is not the launch secret').not.toBe(panel.token);
  expect(await page.evaluate(() => localStorage.getItem('pvmlab.key'))).toBe(panel.token);
  // HttpOnly for real: page scripts cannot read it.
  expect(await page.evaluate(() => document.cookie)).not.toContain(COOKIE_NAME);

  // The cookie is enough for pages from now on (the page sends the key to the API itself) — a new tab too.
  const again = await page.goto('/setup');
  expect(again?.status()).toBe(200);
  const tab = await context.newPage();
  await tab.goto(`${panel.baseURL}/setup`);
  await expect(tab.getByTestId('checked-at')).toBeVisible();
});

test('a wrong launch token gets 401 and no cookie', async ({ context, panel }) => {
  const page = await context.newPage();
  for (const bad of ['nope', 'A'.repeat(panel.token.length), panel.token.slice(0, -1), `${panel.token}x`]) {
    const res = await page.goto(`${panel.baseURL}/?token=${encodeURIComponent(bad)}`);
    expect(res?.status(), `token ${bad}`).toBe(401);
    expect(res!.request().redirectedFrom(), 'no redirect').toBeNull();
    expect(await res!.headerValue('set-cookie')).toBeNull();
    expect(await context.cookies()).toEqual([]);
  }
  // Without a cookie the lab page stays closed.
  expect((await page.goto('/'))?.status()).toBe(401);
  // Positive control: the real token does sign this same context in.
  expect((await page.goto(panel.launchUrl))?.status()).toBe(200);
  expect((await context.cookies()).map((c) => c.name)).toEqual([COOKIE_NAME]);
});

test('the Setup page shows the tools with versions, the accelerator and the lab home', async ({ page, panel }) => {
  const res = await page.goto('/setup');
  expect(res?.status()).toBe(200);
  await expect(page.getByRole('heading', { name: 'Setup' })).toBeVisible();

  for (const name of TOOLS) {
    const row = page.locator(`[data-testid="tools"] tr[data-tool="${name}"]`);
    await expect(row, `tool row ${name}`).toBeVisible();
    await expect(row.locator('[data-status]'), `${name} found`).toHaveAttribute('data-status', 'ok');
    await expect(row.getByTestId('tool-version'), `${name} version`).toHaveText(/^\d+\.\d+[\w.+~-]*$/);
  }
  const proven = provenAccelerators(panel.home);
  await expect(page.getByTestId('accelerator')).toHaveText(proven.x86_64.accelerator);
  // The accelerator card: per guest arch the choice, and every rejected candidate with its symptom.
  for (const arch of ['x86_64', 'aarch64'] as const) {
    const row = page.locator(`[data-testid="accelerators"] tr[data-arch="${arch}"]`);
    await expect(row.getByTestId('arch-accel')).toHaveText(proven[arch].accelerator);
    for (const t of proven[arch].tried.filter((x) => !x.ok)) await expect(row.getByTestId('rejected')).toContainText(t.symptom!);
  }
  await expect(page.getByTestId('home-path')).toHaveText(panel.home);
  await expect(page.getByTestId('checked-at')).toHaveText(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
});

test('Re-check updates the "checked" time through the subscription socket', async ({ page, panel }) => {
  // Leave the lab page first, so no socket of the previous document can be mistaken for this one.
  await page.goto('about:blank');
  // Collect every frame of every socket the Setup page opens, from the first byte on.
  const sockets: { ws: PwWebSocket; received: string[] }[] = [];
  page.on('websocket', (ws) => {
    const entry = { ws, received: [] as string[] };
    ws.on('framereceived', (f) => entry.received.push(String(f.payload)));
    sockets.push(entry);
  });
  expect((await page.goto('/setup'))?.status()).toBe(200);

  // The tab's one tRPC socket is open and the host.events subscription has started on it.
  const url = `ws://127.0.0.1:${panel.port}/ws/trpc`;
  const live = () => sockets.find((s) => s.ws.url() === url && !s.ws.isClosed() && s.received.some((m) => /"type":"started"/.test(m)));
  // (Polls a description, so a failure shows what the sockets did.)
  await expect.poll(() => live() ? 'live' : JSON.stringify(sockets.map((s) => ({ url: s.ws.url(), closed: s.ws.isClosed(), received: s.received }))),
    { message: `an open ${url} with a started subscription` }).toBe('live');
  const trpc = live()!;
  expect(sockets.filter((s) => s.ws.url() === url && !s.ws.isClosed()), 'one tRPC socket per tab').toHaveLength(1);

  const checked = page.getByTestId('checked-at');
  await expect(checked).toHaveText(/\dZ$/);
  const before = await checked.textContent();

  const pushed = trpc.ws.waitForEvent('framereceived', {
    predicate: (f) => /"kind":"doctor"/.test(String(f.payload)),
    timeout: 30_000,
  });
  await page.getByRole('button', { name: 'Re-check' }).click();
  const frame = JSON.parse(String((await pushed).payload)) as { result: { type: string; data: { checkedAt: string } } };
  expect(frame.result.type).toBe('data');
  const after = frame.result.data.checkedAt;
  expect(after).not.toBe(before);
  expect(Date.parse(after)).toBeGreaterThan(Date.parse(before!));
  // The page shows the time the socket pushed.
  await expect(checked).toHaveText(after);
  await expect(page.getByRole('button', { name: 'Re-check' })).toBeEnabled();
  expect(trpc.ws.isClosed()).toBe(false);
});
