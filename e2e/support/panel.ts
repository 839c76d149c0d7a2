// The panel under test: where global setup left it (PanelInfo), signing a page in, the second credential,
// the signed-in `page` fixture, and reading an xterm's buffer. See e2e/harness.ts for the whole picture.
import fs from 'node:fs';
import { test as base, expect, type Page } from '@playwright/test';
export { freePort } from '../../server/lab/vm/allocate.ts';

export const STATE_ENV = 'PVMLAB_E2E_STATE';
export const COOKIE_NAME = 'pvmlab_session';
export const CHROMIUM = process.env.PVMLAB_CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run',
];

export interface PanelInfo {
  /** `http://127.0.0.1:PORT` (no trailing slash). */
  baseURL: string;
  /** The URL `pvmlab serve` printed, with this launch's secret. */
  launchUrl: string;
  port: number;
  /** The launch secret (the `token` query parameter). */
  token: string;
  /** The lab home (PVMLAB_HOME) of this run. */
  home: string;
  /** The temp dir holding home/, panel.json and panel.log. */
  dir: string;
  /** The panel's stdout + stderr. */
  log: string;
  /** The panel process (leader of its own process group). */
  pid: number;
}

export function readPanel(): PanelInfo {
  const file = process.env[STATE_ENV];
  if (!file) throw new Error(`${STATE_ENV} is not set: run the specs through \`npx playwright test\` (global setup starts the panel)`);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as PanelInfo;
}


/** Open the launch URL in this page's context (sets the session cookie); ends on the lab page. */
export async function signIn(page: Page, panel: PanelInfo): Promise<void> {
  const res = await page.goto(panel.launchUrl);
  expect(res?.status(), 'the launch URL should land on the lab page').toBe(200);
  // The redirect hands the page its key in the fragment; the page keeps it and clears the address bar.
  await expect.poll(() => page.url()).toBe(`${panel.baseURL}/`);
}

/** The second credential (DESIGN §3): the launch secret, sent by the panel's page as a header. */
export function keyHeader(panel: PanelInfo): Record<string, string> { return { 'x-pvmlab-key': panel.token }; }
/** …and as WebSocket subprotocols. */
export function keyProtocols(panel: PanelInfo): string[] { return ['pvmlab', `pvmlab.key.${panel.token}`]; }

export const test = base.extend<{ page: Page }, { panel: PanelInfo }>({
  // biome-ignore lint/correctness/noEmptyPattern: Playwright reads a fixture's dependencies from this destructuring
  panel: [async ({}, use) => { await use(readPanel()); }, { scope: 'worker' }],
  baseURL: async ({ panel }, use) => { await use(panel.baseURL); },
  page: async ({ page, panel }, use) => {
    await signIn(page, panel);
    await use(page);
  },
});

export { expect };

/** Every line of an xterm's buffer (scrollback included), as text. */
export async function termLines(page: Page, label: 'serial' | 'ssh'): Promise<string[]> {
  return page.evaluate((l) => {
    const el = document.querySelector(`[data-testid="${l}-xterm"]`) as (HTMLElement & { __xterm?: import('@xterm/xterm').Terminal }) | null;
    const t = el?.__xterm;
    if (!t) return [];
    const b = t.buffer.active;
    const out: string[] = [];
    for (let i = 0; i < b.length; i++) out.push(b.getLine(i)?.translateToString(true) ?? '');
    return out;
  }, label);
}
