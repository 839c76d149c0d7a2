// Screenshots of the panel's main pages for the README (issue #5). Run on purpose:
//
//   npx tsx scripts/screenshots.ts [--out docs/screenshots]
//
// It starts one real panel on a temp lab home exactly like the Playwright e2e suite (e2e/global-setup.ts
// and its teardown), builds or reuses the tiny test guest (scripts/build-test-guest.sh x86_64, cached)
// and makes a small lab through the tRPC API:
//   - `provisioner`: role provisioner, kernel boot of the tiny guest, user-mode uplink + SSH (dropbear),
//     the lab's provisioner IP on the private network. It is not a real provisioner (no Docker): its
//     readiness job keeps waiting, which is what a booting provisioner looks like;
//   - `web-01`: a running target (kernel boot, static private IP, pings the provisioner);
//   - `db-01`: a stopped PXE target (so the PXE page has a reservation).
// Then, in Debian's Chromium at 1440x900 (deviceScaleFactor 1, dark color scheme), it captures
// lab.png, vm.png, logs.png, serial.png, console.png, pxe.png, setup.png, plus lab-light.png, waiting
// for the real content of each page (topology laid out, rows, xterm text) rather than fixed sleeps.
// It warns (and still writes the picture) when a page shows an alert or is wider than the window.
// Everything is cleaned up even on error or Ctrl-C: the VMs, the panel, the temp lab home.
import { setTimeout as sleep } from 'node:timers/promises';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { chromium, type Browser, type BrowserContext, type Page } from '@playwright/test';
import globalSetup from '../e2e/global-setup.ts';
import { CHROMIUM, CHROMIUM_ARGS, readPanel, sessionCookie, termLines, trpcCall, type PanelInfo } from '../e2e/harness.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: opts } = parseArgs({ options: { out: { type: 'string', default: 'docs/screenshots' } } });
const OUT = path.resolve(ROOT, opts.out!);

const PROV = 'provisioner';
const TARGET = 'web-01';
const STOPPED = 'db-01';
const VIEWPORT = { width: 1440, height: 900 };
const BOOT_MS = 240_000;
const PAGE_MS = 60_000;

const t0 = Date.now();
const say = (msg: string) => console.log(`[shots ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${msg}`);

let cookie = '';
/** Set on Ctrl-C / SIGTERM: no new API calls but the cleaning ones. */
let aborting = false;
async function trpc<T = unknown>(panel: PanelInfo, kind: 'query' | 'mutation', proc: string, input?: unknown): Promise<T> {
  if (aborting && proc !== 'vm.clean') throw new Error(`${proc}: interrupted`);
  return trpcCall<T>(panel, cookie, kind, proc, input);
}

async function waitLog(panel: PanelInfo, name: string, re: RegExp, ms = BOOT_MS): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (re.test((await trpc<{ data: string }>(panel, 'query', 'vm.log', { name, offset: 0, limit: 1 << 20 })).data)) return;
    await sleep(1000);
  }
  throw new Error(`${name}: no ${re} in the console log within ${ms / 1000} s`);
}

async function waitTerm(page: Page, label: 'serial' | 'ssh', what: string, pred: (lines: string[]) => boolean, ms = PAGE_MS): Promise<void> {
  const end = Date.now() + ms;
  let last: string[] = [];
  while (Date.now() < end) {
    last = await termLines(page, label).catch(() => []);
    if (pred(last)) return;
    await sleep(250);
  }
  throw new Error(`${label} terminal: no ${what} within ${ms / 1000} s; last lines: ${JSON.stringify(last.filter(Boolean).slice(-5))}`);
}

const promptOf = (vm: string) => (lines: string[]) => lines.filter((l) => l.trim()).at(-1)?.startsWith(`${vm}:`) === true
  && lines.filter((l) => l.trim()).at(-1)!.trimEnd().endsWith('#');

async function typeCommand(page: Page, label: 'serial' | 'ssh', vm: string, cmd: string, done: (lines: string[]) => boolean): Promise<void> {
  await page.getByTestId(`${label}-xterm`).click();
  await page.keyboard.type(cmd);
  await page.keyboard.press('Enter');
  await waitTerm(page, label, `output of ${JSON.stringify(cmd)}`, (l) => done(l) && promptOf(vm)(l));
}

/** No focus ring, no hover state, no blinking caret in the picture. */
async function settle(page: Page): Promise<void> {
  await page.mouse.move(VIEWPORT.width - 2, VIEWPORT.height - 2);
  await page.evaluate(() => document.fonts.ready);
  await sleep(400); // one last paint (React commits, xterm's render frame)
}

const written: string[] = [];
async function shoot(page: Page, file: string): Promise<void> {
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await settle(page);
  // No toast or error page may sneak into a README picture.
  const alert = await page.locator('[role="alert"]').allInnerTexts();
  if (alert.some((t) => t.trim())) say(`  warning: ${file}: the page shows an alert: ${JSON.stringify(alert.filter((t) => t.trim()))}`);
  // A page wider than the window is a layout bug worth knowing about (it would be cut in the picture).
  const wide = await page.evaluate(() => {
    const vw = document.documentElement.clientWidth;
    if (document.documentElement.scrollWidth <= vw) return null;
    const culprits: string[] = [];
    for (const el of Array.from(document.querySelectorAll<HTMLElement>('body *'))) {
      const r = el.getBoundingClientRect();
      const parent = el.parentElement?.getBoundingClientRect();
      if (r.right > vw + 1 && (!parent || parent.right <= vw + 1)) {
        culprits.push(`<${el.tagName.toLowerCase()}${el.dataset.testid ? ` data-testid=${el.dataset.testid}` : ''} class="${el.className}"> right=${Math.round(r.right)}`);
      }
    }
    return { scrollWidth: document.documentElement.scrollWidth, vw, culprits: culprits.slice(0, 5) };
  });
  if (wide) say(`  warning: ${file}: the page is ${wide.scrollWidth} px wide in a ${wide.vw} px window; widest: ${wide.culprits.join(' | ')}`);
  const out = path.join(OUT, file);
  await page.screenshot({ path: out, fullPage: false, animations: 'disabled', caret: 'hide' });
  written.push(out);
  say(`  wrote ${path.relative(ROOT, out)} (${Math.round(fs.statSync(out).size / 1024)} KiB)`);
}

async function newContext(browser: Browser, panel: PanelInfo, colorScheme: 'dark' | 'light'): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: VIEWPORT, deviceScaleFactor: 1, colorScheme });
  // tsx (esbuild keepNames) wraps named functions in __name(): give functions run in the page one.
  await context.addInitScript('window.__name = (f) => f');
  context.setDefaultTimeout(PAGE_MS);
  const page = await context.newPage();
  const res = await page.goto(panel.launchUrl);
  if (res?.status() !== 200) throw new Error(`launch URL: HTTP ${res?.status()}`);
  return { context, page };
}

async function labPage(page: Page, panel: PanelInfo): Promise<void> {
  await page.goto(`${panel.baseURL}/`);
  await page.locator('[data-testid="topology"][data-layout="ready"]').waitFor();
  for (const vm of [PROV, TARGET, STOPPED]) await page.locator(`[data-testid="topo-vm"][data-vm="${vm}"]`).waitFor();
  await page.locator(`[data-testid="topo-vm"][data-vm="${TARGET}"][data-status="running"]`).waitFor();
  await page.locator(`[data-testid="vm-row"][data-vm="${STOPPED}"]`).waitFor();
  await page.getByTestId('vm-row').nth(2).waitFor();
}

/** The prefix length of the lab's private subnet (192.168.100.0/24 → 24). */
function prefixOf(subnet: string): string { return subnet.split('/')[1] ?? '24'; }

const made: string[] = [];
let teardown: (() => Promise<void>) | undefined;
let browser: Browser | undefined;
let panelInfo: PanelInfo | undefined;
let cleaning: Promise<void> | undefined;

function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    if (panelInfo && made.length) {
      say(`cleaning ${made.join(', ')}`);
      for (const name of [...made].reverse()) {
        await trpc(panelInfo, 'mutation', 'vm.clean', { name }).catch((e: unknown) => say(`  clean ${name}: ${(e as Error).message}`));
      }
    }
    await browser?.close().catch(() => {});
    if (teardown) {
      say('stopping the panel');
      await teardown().catch((e: unknown) => say(`  teardown: ${(e as Error).message}`));
    }
    // The teardown kills VMs still listed in the home's pids/; make sure none of ours survived.
    if (panelInfo) {
      const dir = panelInfo.dir;
      for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
        let cmd = '';
        try { cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'); } catch { continue; }
        if (!cmd.includes(`${dir}/`) || Number(pid) === process.pid) continue;
        say(`  leftover process ${pid} (${cmd.split('\0')[0]}) of this run: SIGKILL`);
        try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ }
      }
    }
  })();
  return cleaning;
}

// Ctrl-C reaches this process twice (from the terminal and relayed by the tsx launcher): clean up on
// the first, ignore the rest (a default handler would kill the process half-way through the cleanup).
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (aborting) { say(`${sig}: already cleaning up`); return; }
    aborting = true;
    say(`${sig}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}

async function main(): Promise<void> {
  fs.mkdirSync(OUT, { recursive: true });
  say('building / finding the tiny test guest (scripts/build-test-guest.sh x86_64)');
  const { stdout } = await promisify(execFile)(path.join(ROOT, 'scripts/build-test-guest.sh'), ['x86_64'], { maxBuffer: 16 << 20 });
  const dir = stdout.trim().split('\n').pop()!;
  const guest = { kernel: path.join(dir, 'vmlinuz'), initrd: path.join(dir, 'initrd.img') };

  say('starting a panel on a temp lab home (e2e/global-setup.ts)');
  teardown = await globalSetup({} as never);
  const panel = panelInfo = readPanel();
  say(`panel ${panel.baseURL}, lab home ${panel.home}`);
  cookie = await sessionCookie(panel);

  const { network } = await trpc<{ network: { provisionerIp: string; subnet: string } }>(panel, 'query', 'lab.config');
  const prefix = prefixOf(network.subnet);
  const targetIp = network.provisionerIp.replace(/\.\d+$/, '.10');
  const base = { boot: 'kernel', kernel: guest.kernel, initrd: guest.initrd, memory: '256M', sshUser: 'root' };

  say(`creating ${PROV} (provisioner, SSH over the user-mode uplink), ${TARGET} (running target), ${STOPPED} (stopped PXE target)`);
  const provMac = '52:54:00:5c:00:01';
  made.push(PROV);
  await trpc(panel, 'mutation', 'vm.create', {
    ...base, name: PROV, role: 'provisioner', mac: provMac,
    append: `console=ttyS0 pvmlab.hostname=${PROV} pvmlab.mac=${provMac} pvmlab.ip=${network.provisionerIp}/${prefix} pvmlab.uplink=dhcp`,
  });
  const targetMac = '52:54:00:5c:00:10';
  made.push(TARGET);
  await trpc(panel, 'mutation', 'vm.create', {
    ...base, name: TARGET, role: 'target', mac: targetMac, ip: targetIp,
    append: `console=ttyS0 pvmlab.hostname=${TARGET} pvmlab.mac=${targetMac} pvmlab.ip=${targetIp}/${prefix} pvmlab.ping=${network.provisionerIp}`,
  });
  made.push(STOPPED);
  await trpc(panel, 'mutation', 'vm.create', { name: STOPPED, role: 'target', boot: 'pxe', memory: '512M', mac: '52:54:00:5c:00:20', sshUser: 'root' });

  say(`starting ${PROV} and ${TARGET} (TCG: about a minute)`);
  await trpc(panel, 'mutation', 'vm.start', { name: PROV });
  await trpc(panel, 'mutation', 'vm.start', { name: TARGET });
  await Promise.all([
    waitLog(panel, PROV, /PVMLAB-GUEST-READY/).then(() => say(`  ${PROV} is up`)),
    waitLog(panel, TARGET, /PVMLAB-GUEST-READY/).then(() => say(`  ${TARGET} is up`)),
  ]);

  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const { page } = await newContext(browser, panel, 'dark');

  say('/ (lab)');
  await labPage(page, panel);
  await shoot(page, 'lab.png');

  say(`/vms/${TARGET} (VM page)`);
  await page.goto(`${panel.baseURL}/vms/${TARGET}`);
  await page.locator('[data-testid="vm-name"][data-loaded="yes"]').waitFor();
  await page.getByTestId('vm-facts').waitFor();
  await page.getByTestId('vm-log-tail').filter({ hasText: 'PVMLAB-GUEST-READY' }).waitFor();
  await page.getByTestId('ssh-command').waitFor();
  await shoot(page, 'vm.png');

  say(`/vms/${TARGET}/logs`);
  await page.goto(`${panel.baseURL}/vms/${TARGET}/logs`);
  await page.locator('[data-testid="logs-state"][data-phase="live"]').waitFor();
  await page.getByTestId('log-lines').filter({ hasText: 'PVMLAB-GUEST-READY' }).waitFor();
  await shoot(page, 'logs.png');

  say(`/vms/${TARGET}/serial`);
  await page.goto(`${panel.baseURL}/vms/${TARGET}/serial`);
  await page.locator('[data-testid="serial-state"][data-phase="live"]').waitFor();
  await page.getByTestId('serial-xterm').click();
  await page.keyboard.press('Enter');
  await waitTerm(page, 'serial', 'shell prompt', promptOf(TARGET));
  await typeCommand(page, 'serial', TARGET, 'uname -a', (l) => l.some((x) => x.startsWith(`Linux ${TARGET} `)));
  await typeCommand(page, 'serial', TARGET, `ping -c 3 ${network.provisionerIp}`, (l) => l.some((x) => x.includes('packets transmitted')));
  await shoot(page, 'serial.png');

  say(`/vms/${PROV}/console (web SSH)`);
  await page.goto(`${panel.baseURL}/vms/${PROV}/console`);
  await page.locator('[data-testid="ssh-state"][data-phase="live"]').waitFor();
  await waitTerm(page, 'ssh', 'shell prompt', promptOf(PROV), 120_000);
  await typeCommand(page, 'ssh', PROV, 'hostname; ip -4 addr; ip route; uptime', (l) => l.some((x) => x.includes('load average')));
  await shoot(page, 'console.png');

  say('/pxe');
  await page.goto(`${panel.baseURL}/pxe`);
  await page.getByTestId('container-status').waitFor();
  await page.getByRole('cell', { name: STOPPED, exact: true }).waitFor();
  await page.getByText('Leases (live)').waitFor();
  await page.waitForLoadState('networkidle').catch(() => {});
  await shoot(page, 'pxe.png');

  say('/setup');
  await page.goto(`${panel.baseURL}/setup`);
  await page.getByTestId('accelerator').waitFor();
  await page.getByTestId('tools').waitFor();
  await page.getByTestId('home-path').waitFor();
  await page.getByTestId('network').waitFor();
  await shoot(page, 'setup.png');

  say('/ (lab, light color scheme)');
  const light = await newContext(browser, panel, 'light');
  await labPage(light.page, panel);
  await shoot(light.page, 'lab-light.png');
}

main()
  .catch((e: unknown) => { console.error(e); process.exitCode = 1; })
  .finally(async () => {
    await cleanup();
    if (written.length) {
      console.log(`written (${written.length}):`);
      for (const f of written) console.log(`  ${path.relative(ROOT, f)}  ${Math.round(fs.statSync(f).size / 1024)} KiB`);
    }
    say(process.exitCode ? 'failed' : 'done');
  });
