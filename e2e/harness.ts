/**
 * The shared e2e harness. Every spec imports `test` and `expect` from here, never from @playwright/test.
 *
 * What a run looks like (playwright.config.ts, e2e/global-setup.ts):
 *   - global setup makes a fresh lab home under /tmp (`/tmp/pve-XXXXXX/home`, short on purpose: QMP and
 *     serial unix sockets live under it and must stay under ~100 bytes), starts ONE real panel with
 *     `pvmlab serve --port <free port>` (which runs `next build` first if the pages changed; allowed up to
 *     10 min on a busy machine, PVMLAB_E2E_BUILD_TIMEOUT_MS; otherwise the URL must come within 2 min),
 *     waits for its `open: http://127.0.0.1:PORT/?token=…` line and writes a PanelInfo JSON file
 *     (`/tmp/pve-XXXXXX/panel.json`, path in env PVMLAB_E2E_STATE) for the workers;
 *   - tests run one at a time (workers: 1) against that panel: state such as VMs and the doctor's last
 *     check is shared, so a spec cleans up what it creates;
 *   - global teardown SIGTERMs the panel's process group (SIGKILL after 10 s), kills VMs still listed in
 *     the home's pids/ (QEMU daemonizes out of the group), and deletes the temp dir.
 *     PVMLAB_E2E_KEEP=1 keeps it (panel log: /tmp/pve-XXXXXX/panel.log).
 *
 * Fixtures:
 *   - `panel` (worker scope): PanelInfo — baseURL, launchUrl, port, token, home, log, pid.
 *   - `baseURL`: the panel's base URL, so `page.goto('/setup')` works.
 *   - `page`: a page whose context is already signed in (it opened the launch URL and holds the
 *     pvmlab_session cookie); it starts on the lab page. For an anonymous page use
 *     `browser.newContext()` or the `context` fixture's `newPage()`.
 *
 * Helpers (plain Node, for exact control over headers): `sessionCookie`, `rawRequest` (http.request with
 * exactly the headers given), `rawHttp` (exact bytes on a socket: malformed or missing Host, upgrades),
 * `trpcCall` / `trpcQuery`, `wsOutcome` (a WebSocket from the `ws` package: refused / closed / first message),
 * `freePort`, `termLines` (an xterm's buffer as lines), and CHROMIUM / CHROMIUM_ARGS for launching an extra browser.
 * In the browser: `watchNetwork(page)` records, through the DevTools protocol, what really went over the
 * wire — request headers and cookies sent, status codes — including for responses the page itself may
 * not see (CORS / CORP-blocked fetches, refused WebSocket handshakes).
 *
 * The browser is Debian's Chromium (/usr/bin/chromium, or PVMLAB_CHROMIUM); nothing is downloaded, and
 * only loopback addresses are used. Timeouts are generous because VM specs boot guests under TCG.
 */
export * from './support/panel.ts';
export * from './support/http.ts';
export * from './support/network.ts';
