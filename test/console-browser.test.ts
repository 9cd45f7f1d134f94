// The console in a real browser: Debian's chromium driven by playwright-core (never a downloaded
// browser), against the relay with every provider module pointed at its fake. An analyst's whole
// session: sign in, paste a defanged list, read every row, open one, follow its graph, export,
// sign out; then an expired session, a rejected key, a relay without SECRET_KEY. Accessibility
// (axe-core, in the page) and the security promises (cookie flags, the console header, no key
// anywhere, CSP on every console answer) are checked on the way. Screenshots at 1280 and 390 px
// are written to a folder this test prints.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page, type Response } from 'playwright-core';
import { CONSOLE_COOKIE, sealSession } from '../src/routes/console-session.js';
import { CHROMIUM_FLAGS, CHROMIUM_PATH, chromiumPresent } from './helpers/chromium.js';
import { startConsoleRelay, type ConsoleRelay } from './helpers/console-relay.js';
import { TEST_SECRET } from './helpers/tokens.js';

const inCi = ['true', '1'].includes((process.env.CI ?? '').toLowerCase());
const skip = !chromiumPresent() && !inCi ? `chromium is not installed at ${CHROMIUM_PATH} (apt-get install -y chromium); the browser tests are skipped outside CI` : false;
if (skip !== false) console.warn(`console-browser: ${skip}`);

const HEADER = { 'x-requested-by': 'ctr-relay-console' };
/** Pulsedive answers 429 for this host: its chip must show the error. */
const FAULT_HOST = 'fault-host.example.org';
const PASTED = [
  'Incident 4711: the phish came from hxxps://login-update[.]example[.]com/verify.php',
  'C2 at 198.51.100[.]7 and host-1[.]example[.]com, payload sha256',
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855.',
  `Also ${FAULT_HOST.replace(/\./g, '[.]')} and remove-me[.]example[.]net; our box 10.0.0.5 and files invoice.pdf, setup.exe.`,
].join('\n');

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

async function seriousViolations(page: Page): Promise<string[]> {
  await page.evaluate(axeSource);
  const result = (await page.evaluate(() => (globalThis as any).axe.run((globalThis as any).document, { resultTypes: ['violations'] }))) as {
    violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[];
  };
  return result.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => `${violation.impact} ${violation.id}: ${violation.help} (${violation.nodes.map((node) => node.target.join(' ')).join(', ')})`);
}

interface Watched {
  responses: { url: string; status: number; headers: Record<string, string>; body: string }[];
  problems: string[];
}

/** Every answer the page got (with its body) and every console error / CSP refusal / page error. */
function watch(page: Page): Watched {
  const watched: Watched = { responses: [], problems: [] };
  page.on('console', (message) => {
    if (message.type() === 'error' && !/the server responded with a status of 404/.test(message.text())) watched.problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => watched.problems.push(`page error: ${error.message}`));
  page.on('response', async (response: Response) => {
    const entry = { url: response.url(), status: response.status(), headers: await response.allHeaders(), body: '' };
    watched.responses.push(entry);
    try {
      entry.body = await response.text();
    } catch {
      // a redirect or a stream the page aborted has no body to read
    }
  });
  return watched;
}

async function signInWith(page: Page, keys: Record<string, Record<string, string>>): Promise<void> {
  await page.locator('form.signin').waitFor();
  for (const [id, fields] of Object.entries(keys)) {
    for (const [name, value] of Object.entries(fields)) await page.locator(`#key-${id}-${name}`).fill(value);
  }
  await page.getByRole('button', { name: 'Sign in' }).click();
}

describe('the console in chromium', { skip }, () => {
  let browser: Browser;
  let setup: ConsoleRelay;
  let shots: string;

  before(async () => {
    shots = mkdtempSync(join(tmpdir(), 'ctr-console-screenshots-'));
    console.warn(`console-browser: screenshots in ${shots}`);
    setup = await startConsoleRelay({
      wrap: {
        pulsedive: (handler) => (request) => (request.url.includes(FAULT_HOST) ? { status: 429, body: { error: 'rate limited' } } : handler(request)),
      },
    });
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_FLAGS, headless: true });
  });

  after(async () => {
    await browser?.close();
    await setup?.close();
  });

  test("an analyst's session: sign in, paste, read, expand, pivot, export, sign out", async (t) => {
    const context: BrowserContext = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    const page = await context.newPage();
    const watched = watch(page);
    try {
      await page.goto(`${setup.relay.url}/console/`);
      await page.getByRole('heading', { name: 'Sign in with your provider keys' }).waitFor();
      assert.deepEqual(await seriousViolations(page), [], 'signed out: no serious or critical accessibility violation');

      // Sign in: every keyed provider's fields, from GET /enrich/providers.
      for (const label of ['IBM X-Force Exchange API key', 'IBM X-Force Exchange API password', 'Pulsedive API key', 'AlienVault OTX API key', 'C1fApp API key']) {
        assert.equal(await page.getByLabel(label, { exact: true }).count(), 1, label);
      }
      await signInWith(page, setup.keys);
      await page.locator('[data-state="signed-in"]').waitFor();
      const cookies = await context.cookies();
      const session = cookies.find((cookie) => cookie.name === CONSOLE_COOKIE);
      assert.ok(session, 'the session cookie is set');
      assert.equal(session.httpOnly, true);
      assert.equal(session.sameSite, 'Strict');
      assert.equal(await page.evaluate(() => (globalThis as any).document.cookie), '', "the page's script cannot read the cookie");
      assert.equal(await page.locator('input[type="password"]').count(), 0, 'the key fields are gone');

      // Paste: the chips appear before the lookup, the private address greyed with its reason.
      await page.getByLabel(/Paste anything/).fill(PASTED);
      const chip = (value: string) => page.locator(`.chip-observable[data-value="${value}"]`);
      await chip('remove-me.example.net').waitFor();
      assert.equal(await page.locator('.chip-observable').count(), 6);
      const withheld = page.locator('.chip-withheld[data-value="10.0.0.5"]');
      assert.match((await withheld.textContent()) ?? '', /withheld: .+/);
      assert.equal(await page.locator('[data-value="invoice.pdf"], [data-value="setup.exe"]').count(), 0, 'file names are not domains');
      await page.getByRole('button', { name: 'Remove remove-me.example.net' }).click();
      assert.equal(await page.locator('.chip-observable').count(), 5);

      // Look up: one row per observable, filled in as the lines arrive.
      await page.getByRole('button', { name: /^Look up/ }).click();
      await page.locator('#summary').filter({ hasNotText: 'still answering' }).waitFor();
      const rows = page.locator('tbody.result');
      assert.equal(await rows.count(), 5);
      const values = await rows.evaluateAll((elements) => elements.map((element) => element.getAttribute('data-value')));
      assert.deepEqual(
        [...values].sort(),
        ['198.51.100.7', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', FAULT_HOST, 'host-1.example.com', 'https://login-update.example.com/verify.php'].sort(),
      );
      assert.equal(await page.locator('[data-value="remove-me.example.net"]').count(), 0, 'the removed chip was not looked up');
      for (let index = 0; index < 5; index += 1) {
        const row = rows.nth(index);
        const badge = (await row.locator('.badge').textContent()) ?? '';
        assert.match(badge, /(Malicious|Suspicious|Clean|Unknown)$/, 'the consensus has its word next to its colour');
        assert.match((await row.locator('.agreement').textContent()) ?? '', /^\d+ of \d+ (malicious|suspicious|clean|unknown)$/);
        const chips = row.locator('.chips li');
        assert.ok((await chips.count()) >= 2, 'a chip per provider');
        assert.equal(await row.locator('[data-status="pending"]').count(), 0, 'nothing pending once done');
      }
      const summary = (await page.locator('#summary').textContent()) ?? '';
      assert.match(summary, /^5 observables: \d+ malicious, \d+ suspicious, \d+ clean, \d+ unknown$/, summary);
      const fault = page.locator(`tbody.result[data-value="${FAULT_HOST}"] [data-provider="pulsedive"] .chip`);
      assert.equal(await fault.getAttribute('data-status'), 'error');
      assert.match((await fault.textContent()) ?? '', /Pulsedive: error: Too many requests to Pulsedive/);
      const ip = page.locator('tbody.result[data-value="198.51.100.7"]');
      assert.match((await ip.locator('[data-provider="xforce"]').textContent()) ?? '', /IBM X-Force Exchange: (Malicious|Suspicious|Clean|Unknown|no verdict)/);
      await page.screenshot({ path: join(shots, 'main-1280.png'), fullPage: true });

      // Filter by verdict: unticking every verdict but the IP's hides the others.
      const ipVerdict = ((await ip.locator('.badge').getAttribute('data-verdict')) ?? '') as string;
      for (const name of ['malicious', 'suspicious', 'clean', 'unknown', 'pending']) {
        if (name !== ipVerdict) await page.getByRole('checkbox', { name, exact: true }).uncheck();
      }
      assert.ok((await rows.count()) >= 1 && (await rows.count()) <= 5);
      for (const verdict of await page.locator('tbody.result .badge').evaluateAll((elements) => elements.map((element) => element.getAttribute('data-verdict')))) {
        assert.equal(verdict, ipVerdict);
      }
      for (const name of ['malicious', 'suspicious', 'clean', 'unknown', 'pending']) await page.getByRole('checkbox', { name, exact: true }).check();
      await page.locator('#sort').selectOption('observable');
      const sorted = await rows.evaluateAll((elements) => elements.map((element) => element.getAttribute('data-value') ?? ''));
      assert.deepEqual(sorted, [...sorted].sort((a, b) => a.localeCompare(b)));

      // Export CSV: the table's rows, one column per provider.
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
      const csv = readFileSync((await download.path())!, 'utf8');
      const lines = csv.trim().split(/\r\n/);
      assert.equal(lines[0], 'type,value,verdict,agreement,malicious,suspicious,clean,unknown,answered,xforce,pulsedive,cybercrime-tracker,otx,c1fapp,titles,first_seen,last_seen');
      assert.equal(lines.length, 6);
      const ipLine = lines.find((line) => line.startsWith('ip,198.51.100.7,'));
      assert.ok(ipLine, csv);
      assert.match(ipLine, /^ip,198\.51\.100\.7,(Malicious|Suspicious|Clean|Unknown),\d+ of \d+ \w+,\d+,\d+,\d+,\d+,\d+,/);
      assert.match(lines.find((line) => line.includes(FAULT_HOST)) ?? '', /error: Too many requests to Pulsedive/);
      const [jsonDownload] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export JSON' }).click()]);
      const answer = JSON.parse(readFileSync((await jsonDownload.path())!, 'utf8'));
      assert.equal(answer.data.observables.length, 5);
      assert.ok(answer.data.withheld.some((item: any) => item.value === '10.0.0.5'));

      // Copy a row's verdict summary.
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: setup.relay.url });
      await ip.getByRole('button', { name: /Copy/ }).click();
      await page.locator('#status').filter({ hasText: /198\.51\.100\.7 \(ip\): \w+, \d+ of \d+/ }).waitFor();

      // Expand a row: per provider its tables, its links, and the relations graph.
      await page.locator('#sort').selectOption('verdict');
      await ip.getByRole('button', { name: /Details/ }).click();
      const detail = ip.locator('.detail');
      await detail.waitFor();
      assert.ok((await detail.locator('table.entities').count()) >= 2, 'judgement / sighting / indicator tables');
      const sightings = detail.locator('table.entities[data-kind="sightings"]').first();
      assert.deepEqual(await sightings.locator('thead th').allTextContents(), ['Title', 'Source', 'Time', 'Confidence / severity', 'Link']);
      assert.ok((await sightings.locator('tbody tr').count()) >= 1);
      assert.ok((await detail.locator('ul.links a[href^="https://"]').count()) >= 1, 'pivot links');
      const nodes = detail.locator('svg.relation-graph g.node[role="button"]');
      assert.ok((await nodes.count()) >= 1, 'the graph has related observables');
      await page.screenshot({ path: join(shots, 'expanded-1280.png'), fullPage: true });
      assert.deepEqual(await seriousViolations(page), [], 'results and an expanded row: no serious or critical accessibility violation');

      // 390 px wide: the table becomes cards; nothing wider than the screen.
      await page.setViewportSize({ width: 390, height: 844 });
      await page.screenshot({ path: join(shots, 'expanded-390.png'), fullPage: true });
      const overflow = await page.evaluate(() => { const root = (globalThis as any).document.documentElement; return root.scrollWidth - root.clientWidth; });
      assert.ok(overflow <= 1, `no horizontal scrolling at 390 px (overflow ${overflow} px)`);
      await ip.getByRole('button', { name: /Hide/ }).click();
      await page.screenshot({ path: join(shots, 'main-390.png'), fullPage: true });
      await page.setViewportSize({ width: 1280, height: 900 });

      // Follow a graph node (by keyboard): a new lookup of that observable.
      await ip.getByRole('button', { name: /Details/ }).click();
      const node = ip.locator('svg.relation-graph g.node[role="button"]').first();
      const followed = (await node.getAttribute('data-value')) ?? '';
      await node.focus();
      await page.keyboard.press('Enter');
      await page.locator(`tbody.result[data-value="${followed}"]`).waitFor();
      await page.locator('#summary').filter({ hasNotText: 'still answering' }).waitFor();
      assert.equal(await rows.count(), 1);
      assert.equal(await page.getByLabel(/Paste anything/).inputValue(), followed);

      // Sign out: the cookie is gone and the form is back.
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in with your provider keys' }).waitFor();
      await page.locator('[data-notice="info"]').filter({ hasText: 'Signed out' }).waitFor();
      assert.equal((await context.cookies()).some((cookie) => cookie.name === CONSOLE_COOKIE), false);

      // The promises kept along the way.
      assert.deepEqual(watched.problems, [], 'no script error, no CSP refusal');
      const consoleAnswers = watched.responses.filter((response) => new URL(response.url).pathname.startsWith('/console'));
      assert.ok(consoleAnswers.length >= 5);
      for (const response of consoleAnswers) assert.match(response.headers['content-security-policy'] ?? '', /default-src 'self'/, response.url);
      assert.ok(watched.responses.every((response) => new URL(response.url).origin === setup.relay.url), 'nothing from another host');
      const secrets = Object.values(setup.keys).flatMap((fields) => Object.values(fields));
      const html = await page.content();
      for (const secret of secrets) {
        assert.ok(!html.includes(secret), 'no key in the page');
        for (const response of watched.responses) assert.ok(!response.body.includes(secret), `no key in ${response.url}`);
        assert.ok(!setup.logLines.some((line) => line.includes(secret)), 'no key in a log line');
      }
      t.diagnostic(`screenshots: ${shots}`);
    } finally {
      await context.close();
    }
  });

  test('a request with the session cookie but without the console header is refused', async () => {
    const signIn = await fetch(`${setup.relay.url}/console/session`, { method: 'POST', headers: HEADER, body: JSON.stringify(setup.keys) });
    const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0]!;
    const body = JSON.stringify([{ type: 'ip', value: '198.51.100.7' }]);
    const refused = (await (await fetch(`${setup.relay.url}/enrich/observables`, { method: 'POST', headers: { cookie }, body })).json()) as any;
    assert.equal(refused.errors[0].code, 'authorization error');
    assert.match(refused.errors[0].message, /X-Requested-By: ctr-relay-console/);
    const accepted = (await (await fetch(`${setup.relay.url}/enrich/observables`, { method: 'POST', headers: { cookie, ...HEADER }, body })).json()) as any;
    assert.equal(accepted.data.observables[0].value, '198.51.100.7');
    assert.ok(accepted.data.observables[0].providers.some((provider: any) => provider.id === 'otx' && provider.status === 'ok'), 'the sealed keys reach the providers');
  });

  test('an expired session says so and offers the sign-in form again', async () => {
    const context = await browser.newContext();
    try {
      const sealed = await sealSession(setup.keys, { SECRET_KEY: TEST_SECRET, CONSOLE_SESSION_HOURS: 12 }, new Date(Date.now() - 13 * 3_600_000));
      await context.addCookies([{ name: CONSOLE_COOKIE, value: sealed.cookie, url: setup.relay.url, httpOnly: true, sameSite: 'Strict' }]);
      const page = await context.newPage();
      await page.goto(`${setup.relay.url}/console/`);
      const notice = page.locator('[data-notice="expired"]');
      await notice.waitFor();
      assert.match((await notice.textContent()) ?? '', /Your session has expired/);
      await page.getByRole('heading', { name: 'Sign in with your provider keys' }).waitFor();
      assert.equal(await page.getByRole('button', { name: /^Look up/ }).isDisabled(), true);
    } finally {
      await context.close();
    }
  });

  test('a rejected key is named next to its provider, and no session is made', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${setup.relay.url}/console/`);
      await signInWith(page, { ...setup.keys, otx: { key: 'not-the-otx-key' } });
      const problem = page.locator('fieldset[data-provider="otx"] [data-check="rejected"]');
      await problem.waitFor();
      assert.match((await problem.textContent()) ?? '', /Rejected by AlienVault OTX: Authorization failed/);
      assert.equal(await page.locator('#key-otx-key').getAttribute('aria-invalid'), 'true');
      assert.equal((await context.cookies()).some((cookie) => cookie.name === CONSOLE_COOKIE), false);
      assert.deepEqual(await seriousViolations(page), []);
    } finally {
      await context.close();
    }
  });

  test('without SECRET_KEY the console says it cannot sign in, and why', async () => {
    const bare = await startConsoleRelay({ env: { SECRET_KEY: '' } });
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${bare.relay.url}/console/`);
      const notice = page.locator('[data-state="no-secret"]');
      await notice.waitFor();
      assert.match((await notice.textContent()) ?? '', /no SECRET_KEY/);
      assert.equal(await page.locator('form.signin').count(), 0);
    } finally {
      await context.close();
      await bare.close();
    }
  });
});
