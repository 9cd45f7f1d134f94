// `npm run bench:console`: the console's page weight (its scripts and styles as the relay sends
// them, gzip) and, in Debian's chromium, the time from the page receiving the API's first NDJSON
// line to the first provider result shown in a row. Targets: < 200 KB, within 100 ms.
// Fakes of every provider on 127.0.0.1 with some latency; loopback only. Flags:
//   --runs N (lookups, default 7)  --observables N (per lookup, default 20)  --latency N (fake ms, default 150)
import { request } from 'node:http';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import type { FakeReply } from '../test/helpers/fake-upstream.js';
import { startConsoleRelay } from '../test/helpers/console-relay.js';
import { CHROMIUM_FLAGS, CHROMIUM_PATH } from '../test/helpers/chromium.js';

const { values: flags } = parseArgs({
  options: {
    runs: { type: 'string', default: '7' },
    observables: { type: 'string', default: '20' },
    latency: { type: 'string', default: '150' },
  },
});
const runs = Number(flags.runs);
const observableCount = Number(flags.observables);
const latency = Number(flags.latency);

/** Bytes on the wire (compressed as sent to a browser that accepts gzip). */
function wireBytes(url: string): Promise<{ bytes: number; encoding: string }> {
  return new Promise((resolve, reject) => {
    request(url, { headers: { 'accept-encoding': 'gzip, deflate, br' } }, (response) => {
      let bytes = 0;
      response.on('data', (chunk: Buffer) => (bytes += chunk.length));
      response.on('end', () => resolve({ bytes, encoding: String(response.headers['content-encoding'] ?? 'identity') }));
      response.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

const delayed = (handler: (request: never) => unknown) => async (recorded: never) => ({ ...((await handler(recorded)) as FakeReply), delayMs: latency });
const setup = await startConsoleRelay({
  env: { LOG_LEVEL: 'warn' },
  wrap: Object.fromEntries(['xforce', 'pulsedive', 'otx', 'c1fapp', 'cybercrime-tracker'].map((id) => [id, delayed as never])),
});

try {
  // Page weight: what index.html names, fetched as a browser would.
  const html = await (await fetch(`${setup.relay.url}/console/`)).text();
  const assets = [...html.matchAll(/(?:src|href)="\.\/(assets\/[^"]+\.(?:js|css))"/g)].map((match) => match[1]!);
  let total = 0;
  for (const asset of assets) {
    const { bytes, encoding } = await wireBytes(`${setup.relay.url}/console/${asset}`);
    total += bytes;
    console.log(`  ${asset}: ${(bytes / 1024).toFixed(1)} KB (${encoding})`);
  }
  console.log(`page weight (scripts and styles, compressed): ${(total / 1024).toFixed(1)} KB (target < 200 KB) ${total < 200 * 1024 ? 'OK' : 'OVER'}`);

  // First line → first result row, in the page: the page's own fetch of the stream is timed at the
  // chunk holding the first complete line; a MutationObserver times the first provider result.
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_FLAGS, headless: true });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.addInitScript(() => {
    // `started` is set just before each click; only what follows it counts.
    const marks = ((globalThis as any).__marks = { firstLine: 0, firstRow: 0, done: 0, started: Infinity, armed: false });
    const original = globalThis.fetch.bind(globalThis);
    globalThis.fetch = async (input: any, init?: any) => {
      const calledAt = performance.now();
      const response = await original(input, init);
      if (!String(input).includes('enrich/observables') || response.body === null || calledAt < marks.started) return response;
      const decoder = new TextDecoder();
      const timed = response.body.pipeThrough(
        new TransformStream({
          transform(chunk, controller) {
            if (marks.firstLine === 0 && decoder.decode(chunk, { stream: true }).includes('\n')) marks.firstLine = performance.now();
            controller.enqueue(chunk);
          },
        }),
      );
      return new Response(timed, { status: response.status, headers: response.headers });
    };
    new (globalThis as any).MutationObserver(() => {
      const document = (globalThis as any).document;
      const summary = document.querySelector('#summary')?.textContent ?? '';
      // Armed once the new lookup's rows (all pending) have replaced the last one's.
      if (!marks.armed && performance.now() >= marks.started && summary.includes('still answering')) marks.armed = true;
      if (!marks.armed) return;
      if (marks.firstRow === 0 && document.querySelector('tbody.result [data-status]:not([data-status="pending"])') !== null) marks.firstRow = performance.now();
      if (marks.done === 0 && !summary.includes('still answering')) marks.done = performance.now();
    }).observe((globalThis as any).document, { subtree: true, childList: true, characterData: true, attributes: true });
  });
  const page = await context.newPage();
  await page.goto(`${setup.relay.url}/console/`);
  await page.locator('form.signin').waitFor();
  for (const [id, fields] of Object.entries(setup.keys)) for (const [name, value] of Object.entries(fields)) await page.locator(`#key-${id}-${name}`).fill(value);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('[data-state="signed-in"]').waitFor();

  const gaps: number[] = [];
  const totals: number[] = [];
  for (let run = 0; run < runs; run += 1) {
    // Fresh values each run: nothing comes from a cache.
    const list = Array.from({ length: observableCount }, (_, index) => `198.51.${100 + (run % 100)}[.]${index + 1}`).join('\n');
    await page.getByLabel(/Paste anything/).fill(list);
    await page.locator('.chip-observable').nth(observableCount - 1).waitFor();
    await page.evaluate(() => Object.assign((globalThis as any).__marks, { firstLine: 0, firstRow: 0, done: 0, armed: false, started: performance.now() }));
    await page.getByRole('button', { name: /^Look up/ }).click();
    await page.waitForFunction(() => (globalThis as any).__marks.done > 0 && (globalThis as any).__marks.firstRow > 0, undefined, { timeout: 60_000 });
    const marks = (await page.evaluate(() => (globalThis as any).__marks)) as { firstLine: number; firstRow: number; done: number; started: number };
    gaps.push(marks.firstRow - marks.firstLine);
    console.log(`  run ${run + 1}: line at ${(marks.firstLine - marks.started).toFixed(1)} ms, row at ${(marks.firstRow - marks.started).toFixed(1)} ms, done at ${(marks.done - marks.started).toFixed(0)} ms`);
    totals.push(marks.done - marks.started);
  }
  await browser.close();
  const sorted = [...gaps].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  const worst = sorted.at(-1)!;
  const medianTotal = [...totals].sort((a, b) => a - b)[Math.floor(totals.length / 2)]!;
  console.log(
    `first NDJSON line → first result row: median ${median.toFixed(1)} ms, worst ${worst.toFixed(1)} ms over ${runs} lookups of ${observableCount} observables (target within 100 ms) ${worst <= 100 ? 'OK' : 'OVER'}`,
  );
  console.log(`whole lookup (click → every row done, fakes at ${latency} ms): median ${medianTotal.toFixed(0)} ms`);
} finally {
  await setup.close();
}
