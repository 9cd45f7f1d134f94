// What a realistic Threat Response investigation costs, per module, against the project's fixture
// fakes (test/helpers/scenarios.ts): 100 observables the fake knows, the default entities limit
// (100) and the maximum (1000). The request budget's defaults (docs/limits.md) are set well above
// these. In this process (the relay and the fakes share it): calls, entities and bytes are exact,
// times are not the point.
import { SCENARIOS } from '../test/helpers/scenarios.js';
import { startFakeUpstream } from '../test/helpers/fake-upstream.js';
import { startRelay } from '../test/helpers/relay.js';
import { TEST_SECRET, hs256Token } from '../test/helpers/tokens.js';

const OBSERVABLES = 100;
console.log(`A realistic investigation: ${OBSERVABLES} observables the fake knows, per module\n`);
const rows: string[][] = [];
for (const scenario of SCENARIOS) {
  const fake = await startFakeUpstream(scenario.handler);
  const relay = await startRelay({ PROVIDERS: scenario.providerId, SECRET_KEY: TEST_SECRET, ...scenario.envFor(fake.url) });
  try {
    for (const limit of [100, 1000]) {
      const headers: Record<string, string> = {};
      if (scenario.credentials !== null) headers.authorization = `Bearer ${await hs256Token({ ...scenario.credentials, CTR_ENTITIES_LIMIT: limit })}`;
      const before = fake.requests.length;
      const answer = await relay.post(`/${scenario.providerId}/observe/observables`, scenario.observables(OBSERVABLES), headers);
      const data = (answer.json.data ?? {}) as Record<string, { count: number }>;
      const entities = Object.values(data).reduce((sum, list) => sum + list.count, 0);
      rows.push([
        scenario.providerId,
        String(limit),
        String(fake.requests.length - before),
        String(entities),
        `${(JSON.stringify(answer.json).length / 1024).toFixed(0)} KiB`,
        (answer.json.errors ?? []).map((error: { code: string }) => error.code).join(', ') || '-',
      ]);
    }
  } finally {
    await relay.close();
    await fake.close();
  }
}
const headers = ['module', 'entities limit', 'upstream calls', 'entities', 'answer', 'errors'];
const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => row[column]!.length)));
const line = (row: string[]) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ');
console.log(line(headers));
console.log(widths.map((width) => '-'.repeat(width)).join('  '));
for (const row of rows) console.log(line(row));
console.log('');
