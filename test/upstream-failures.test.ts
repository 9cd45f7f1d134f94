// Every failed upstream call explains itself: one log line naming the provider, the call, the
// cause class (with the limit, the TLS reason or the status) and the duration, a metrics label
// per cause, and the failing observables in the answer's error and the summary line. The answer's
// message stays the contract's. Pulsedive is the module under test because its key travels in the
// query string: no line may ever carry it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RelayError, uniqueErrors } from '../src/core/errors.js';
import { classifyTransportError, describeFailure } from '../src/core/upstream-failure.js';
import { PULSEDIVE_TEST_KEY } from '../src/providers/pulsedive/test-support/scenario.js';
import { pulsediveScenario } from '../src/providers/pulsedive/test-support/scenario.js';
import { XFORCE_CREDENTIALS, xforceAnswer } from '../src/providers/xforce/test-support/scenario.js';
import { fixture, startFakeUpstream, type FakeHandler, type FakeUpstream } from './helpers/fake-upstream.js';
import { freePort } from './helpers/ports.js';
import { startRelay, type RunningRelay } from './helpers/relay.js';
import { TEST_SECRET, bearer, hs256Token } from './helpers/tokens.js';

const FAILING = { type: 'domain', value: 'failing.example.com' };
const UNAVAILABLE = { type: 'fatal', code: 'service unavailable', message: 'The Pulsedive is unavailable. Please, try again later.' };

interface Started {
  relay: RunningRelay;
  lines: string[];
  token: string;
}

async function startPulsedive(apiUrl: string, env: Record<string, string> = {}): Promise<Started> {
  const lines: string[] = [];
  const relay = await startRelay({ PROVIDERS: 'pulsedive', SECRET_KEY: TEST_SECRET, PULSEDIVE_API_URL: apiUrl, ERROR_OBSERVABLES: 'on', ...env }, { logLines: lines });
  return { relay, lines, token: await hs256Token({ key: PULSEDIVE_TEST_KEY }) };
}

function records(lines: readonly string[]): Record<string, any>[] {
  return lines.map((line) => JSON.parse(line) as Record<string, any>);
}

/** The failure line of a call, waited for: a cut call may be logged just after the answer went out. */
async function failureLine(lines: readonly string[], call: string): Promise<Record<string, any>> {
  for (let waited = 0; waited < 5000; waited += 20) {
    const found = records(lines).find((record) => record.upstream?.call === call);
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.fail(`no failure line for ${call} in:\n${lines.join('\n')}`);
}

function summaryLine(lines: readonly string[]): Record<string, any> {
  const summary = records(lines).find((record) => record.summary?.endpoint === 'observe');
  assert.ok(summary, 'a summary line');
  return summary.summary;
}

/** Every form in which a secret could show up: as is, URL-encoded, in a Basic header. */
function assertNoSecret(lines: readonly string[], secrets: readonly string[]): void {
  const text = lines.join('\n');
  for (const secret of secrets) {
    for (const form of [secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64')]) {
      assert.ok(!text.includes(form), `a log line carries a secret (${form.slice(0, 6)}…)`);
    }
  }
  // Never a path or query: `info.php?…key=` is where Pulsedive's key travels.
  assert.ok(!text.includes('info.php'), 'a log line carries the upstream path');
}

async function metricValue(relay: RunningRelay, name: string, labels: Record<string, string>): Promise<number> {
  const text = await relay.app.relay.metrics.render();
  const wanted = Object.entries(labels).map(([label, value]) => `${label}="${value}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const labelText = line.slice(name.length + 1, line.lastIndexOf('}'));
    const have = labelText.split(/,(?=[a-z_]+=")/);
    if (wanted.every((pair) => have.includes(pair)) && have.length === wanted.length) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

interface Expected {
  cause: string;
  /** The `status` label of the calls counter: the cause, or the HTTP status of an answer. */
  statusLabel: string;
  error: Record<string, string>;
  level?: number;
  /** Checks of the cause's own fields (limit, reason, status, code). */
  check?: (upstream: Record<string, any>) => void;
}

/** One observe of FAILING: the answer, the failure line of the `info` call, the metrics, no secret. */
async function assertExplained(started: Started, expected: Expected): Promise<Record<string, any>> {
  const { relay, lines, token } = started;
  const answer = await relay.post('/pulsedive/observe/observables', [FAILING], bearer(token));
  assert.equal(answer.status, 200);
  assert.equal(answer.json.data, undefined);
  assert.deepEqual(answer.json.errors, [{ ...expected.error, observables: [FAILING], observablesCount: 1 }]);

  const line = await failureLine(lines, 'info');
  assert.equal(line.level, expected.level ?? 40, 'warn');
  const { upstream } = line;
  assert.equal(upstream.provider, 'pulsedive');
  assert.equal(upstream.call, 'info');
  assert.equal(upstream.cause, expected.cause);
  assert.match(upstream.origin, /^https?:\/\/[^/?]+$/);
  assert.equal(typeof upstream.durationMs, 'number');
  assert.ok(upstream.durationMs >= 0);
  assert.match(line.msg, new RegExp(`^upstream call failed: pulsedive info: ${expected.cause}`));
  assert.equal(typeof line.reqId, 'string', 'the line carries the request id');
  expected.check?.(upstream);

  const summary = summaryLine(lines);
  assert.deepEqual(summary.failedObservables, [{ ...FAILING, code: expected.error.code }]);
  assert.equal(summary.failedObservablesCount, 1);

  assert.equal(await metricValue(relay, 'ctr_relay_upstream_failures_total', { provider: 'pulsedive', call: 'info', cause: expected.cause }), 1);
  assert.equal(await metricValue(relay, 'ctr_relay_upstream_calls_total', { provider: 'pulsedive', call: 'info', status: expected.statusLabel }), 1);
  assertNoSecret(lines, [PULSEDIVE_TEST_KEY, token, TEST_SECRET]);
  return upstream;
}

describe('every failed upstream call explains itself', () => {
  let fake: FakeUpstream;
  let handler: FakeHandler = () => ({ status: 404, body: {} });
  before(async () => {
    fake = await startFakeUpstream((request) => handler(request));
  });
  after(() => fake.close());

  async function withFake(reply: FakeHandler, env: Record<string, string> = {}, run: (started: Started) => Promise<void>): Promise<void> {
    handler = reply;
    const started = await startPulsedive(fake.url, env);
    try {
      await run(started);
    } finally {
      await started.relay.close();
    }
  }

  test('dns: a host that never resolves fails fast and says so', async () => {
    const started = await startPulsedive('http://pulsedive.invalid/api/');
    try {
      const upstream = await assertExplained(started, {
        cause: 'dns',
        statusLabel: 'dns',
        error: UNAVAILABLE,
        check: (failure) => {
          assert.ok(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL'].includes(failure.errorCode), failure.errorCode);
          assert.equal(failure.origin, 'http://pulsedive.invalid');
        },
      });
      // Fails fast: no time-out was needed to find out.
      assert.ok(upstream.durationMs < 5000, `${upstream.durationMs} ms`);
      // The health check's call explains itself the same way.
      const health = await started.relay.post('/pulsedive/health', undefined, bearer(started.token));
      assert.deepEqual(health.json, { errors: [UNAVAILABLE] });
      const line = await failureLine(started.lines, 'health');
      assert.equal(line.upstream.cause, 'dns');
      assertNoSecret(started.lines, [PULSEDIVE_TEST_KEY, started.token]);
    } finally {
      await started.relay.close();
    }
  });

  test('refused: a closed loopback port', async () => {
    const port = await freePort();
    const started = await startPulsedive(`http://127.0.0.1:${port}/api/`);
    try {
      await assertExplained(started, {
        cause: 'refused',
        statusLabel: 'refused',
        error: UNAVAILABLE,
        check: (failure) => {
          assert.equal(failure.errorCode, 'ECONNREFUSED');
          assert.equal(failure.origin, `http://127.0.0.1:${port}`);
        },
      });
    } finally {
      await started.relay.close();
    }
  });

  test('reset: the provider drops the connection', async () => {
    await withFake(
      () => ({ action: 'reset' }),
      {},
      async (started) => {
        await assertExplained(started, { cause: 'reset', statusLabel: 'reset', error: UNAVAILABLE, check: (failure) => assert.match(failure.errorCode, /^(ECONNRESET|UND_ERR_SOCKET|UND_ERR_CLOSED|EPIPE)$/) });
      },
    );
  });

  test('timeout: a provider that never answers, with the limit', async () => {
    await withFake(
      () => ({ action: 'hang' }),
      { UPSTREAM_TIMEOUT_MS: '300' },
      async (started) => {
        const upstream = await assertExplained(started, { cause: 'timeout', statusLabel: 'timeout', error: UNAVAILABLE, check: (failure) => assert.equal(failure.limitMs, 300) });
        assert.equal(describeFailure(upstream as never), 'timeout after 300 ms');
      },
    );
  });

  test('http: a provider answering 503, with the status', async () => {
    await withFake(
      () => ({ status: 503, body: 'down for maintenance' }),
      {},
      async (started) => {
        await assertExplained(started, { cause: 'http', statusLabel: '503', error: UNAVAILABLE, check: (failure) => assert.equal(failure.status, 503) });
        const line = await failureLine(started.lines, 'info');
        assert.match(line.msg, /: http 503$/);
      },
    );
  });

  test('http: a refused key (401) is the call failing on its status, the key never shown', async () => {
    await withFake(
      () => ({ status: 401, body: { error: 'Invalid API key.' } }),
      {},
      async (started) => {
        await assertExplained(started, {
          cause: 'http',
          statusLabel: '401',
          error: { type: 'fatal', code: 'authorization error', message: 'Authorization failed: Authorization failed on Pulsedive side' },
          check: (failure) => assert.equal(failure.status, 401),
        });
      },
    );
  });

  test('unparsable: a body that is not JSON', async () => {
    await withFake(
      () => ({ status: 200, body: '<html>a captive portal</html>' }),
      {},
      async (started) => {
        await assertExplained(started, {
          cause: 'unparsable',
          statusLabel: '200',
          error: { type: 'fatal', code: 'key error', message: 'The data structure of Pulsedive has changed. The module is broken.' },
          check: (failure) => assert.equal(failure.reason, 'not JSON'),
        });
      },
    );
  });

  test('unparsable: JSON of a changed shape', async () => {
    await withFake(
      () => ({ status: 200, body: { risk: 42 } }),
      {},
      async (started) => {
        await assertExplained(started, {
          cause: 'unparsable',
          statusLabel: '200',
          error: { type: 'fatal', code: 'key error', message: 'The data structure of Pulsedive has changed. The module is broken.' },
          check: (failure) => assert.equal(failure.reason, 'changed shape'),
        });
      },
    );
  });

  test('too large: an answer over UPSTREAM_MAX_BODY_BYTES', async () => {
    await withFake(
      () => ({ status: 200, body: { risk: 'x'.repeat(10_000) } }),
      { UPSTREAM_MAX_BODY_BYTES: '2048' },
      async (started) => {
        await assertExplained(started, {
          cause: 'too large',
          statusLabel: 'too large',
          error: { type: 'fatal', code: 'unknown', message: 'The answer of Pulsedive is larger than 2048 bytes.' },
          check: (failure) => assert.equal(failure.limitBytes, 2048),
        });
      },
    );
  });

  test('aborted: a call cut by the request deadline is logged at info, and the answer names the observable', async () => {
    await withFake(
      () => ({ action: 'hang' }),
      { UPSTREAM_TIMEOUT_MS: '10000', REQUEST_DEADLINE_MS: '300' },
      async (started) => {
        await assertExplained(started, {
          cause: 'aborted',
          statusLabel: 'aborted',
          level: 30,
          error: { type: 'fatal', code: 'service unavailable', message: 'Pulsedive did not answer within the request deadline of 300 ms.' },
        });
      },
    );
  });

  test('a partial answer names the failing observables in its error and its summary line, and without ERROR_OBSERVABLES=on the errors keep the contract\'s three fields', async () => {
    const good = { type: 'domain', value: 'good.example.com' };
    const bad = [
      { type: 'domain', value: 'bad-1.example.com' },
      { type: 'ip', value: '192.0.2.7' },
    ];
    const reply: FakeHandler = (request) => {
      if (request.url.includes('bad-1') || request.url.includes('192.0.2.7')) return { status: 502, body: 'bad gateway' };
      return pulsediveScenario.handler(request);
    };
    await withFake(reply, {}, async ({ relay, lines, token }) => {
      const answer = await relay.post('/pulsedive/observe/observables', [good, ...bad], bearer(token));
      assert.ok(answer.json.data?.verdicts, 'the good observable kept its data');
      assert.deepEqual(answer.json.errors, [{ ...UNAVAILABLE, observables: bad, observablesCount: 2 }]);
      const summary = summaryLine(lines);
      assert.deepEqual(summary.errors, ['service unavailable']);
      assert.deepEqual(
        summary.failedObservables,
        bad.map((observable) => ({ ...observable, code: 'service unavailable' })),
      );
      // One line per failed call: the info call of each failing observable (links is only asked for
      // an indicator Pulsedive knows, so a failed info is the observable's only call).
      const failedLines = () => records(lines).filter((record) => record.upstream !== undefined);
      for (let waited = 0; waited < 5000 && failedLines().length < 2; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
      const failed = failedLines();
      assert.equal(failed.length, 2);
      assert.ok(failed.every((record) => record.upstream.cause === 'http' && record.upstream.status === 502));
      assertNoSecret(lines, [PULSEDIVE_TEST_KEY, token]);
    });
    await withFake(reply, { ERROR_OBSERVABLES: 'off' }, async ({ relay, lines, token }) => {
      const answer = await relay.post('/pulsedive/observe/observables', [good, ...bad], bearer(token));
      assert.deepEqual(answer.json.errors, [UNAVAILABLE]);
      // The summary line still says which.
      assert.equal(summaryLine(lines).failedObservablesCount, 2);
    });
  });
});

test('unparsable: an X-Force answer of a changed shape names its call; the Basic credentials never show', async () => {
  const fake = await startFakeUpstream((request) =>
    request.url.startsWith('/url/') ? { body: fixture(new URL('../src/providers/xforce/', import.meta.url), 'url-report-changed.json') } : xforceAnswer(request),
  );
  const lines: string[] = [];
  const relay = await startRelay({ PROVIDERS: 'xforce', SECRET_KEY: TEST_SECRET, XFORCE_API_URL: fake.url }, { logLines: lines });
  try {
    const token = await hs256Token(XFORCE_CREDENTIALS);
    const answer = await relay.post('/xforce/observe/observables', [{ type: 'domain', value: 'example.com' }], bearer(token));
    assert.equal(answer.json.errors[0].code, 'key error');
    const line = await failureLine(lines, 'report');
    assert.equal(line.upstream.provider, 'xforce');
    assert.equal(line.upstream.cause, 'unparsable');
    assert.equal(line.upstream.reason, 'changed shape');
    assert.equal(await metricValue(relay, 'ctr_relay_upstream_failures_total', { provider: 'xforce', call: 'report', cause: 'unparsable' }), 1);
    assertNoSecret(lines, [XFORCE_CREDENTIALS.key, XFORCE_CREDENTIALS.password, `${XFORCE_CREDENTIALS.key}:${XFORCE_CREDENTIALS.password}`, token]);
  } finally {
    await relay.close();
    await fake.close();
  }
});

describe('tls', () => {
  let dir: string;
  let server: Server;
  let url: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'relay-failure-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1'], {
      stdio: 'ignore',
    });
    server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (_request, response) => response.end('{}'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/api/`;
  });
  after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('tls: a certificate that cannot be verified (as behind a TLS-intercepting proxy), with the reason', async () => {
    const started = await startPulsedive(url);
    try {
      const { relay, token } = started;
      const answer = await relay.post('/pulsedive/observe/observables', [FAILING], bearer(token));
      const error = answer.json.errors[0];
      assert.equal(error.code, 'ssl error');
      assert.match(error.message, /^Unable to verify SSL certificate: [A-Z]/);
      await assertExplainedTls(started, error);
    } finally {
      await started.relay.close();
    }
  });

  async function assertExplainedTls(started: Started, error: Record<string, string>): Promise<void> {
    const line = await failureLine(started.lines, 'info');
    assert.equal(line.level, 40);
    assert.equal(line.upstream.cause, 'tls');
    assert.equal(line.upstream.errorCode, 'DEPTH_ZERO_SELF_SIGNED_CERT');
    assert.match(line.upstream.reason, /self.signed/i);
    assert.match(line.msg, /^upstream call failed: pulsedive info: tls: /);
    assert.deepEqual(summaryLine(started.lines).failedObservables, [{ ...FAILING, code: error.code }]);
    assert.equal(await metricValue(started.relay, 'ctr_relay_upstream_failures_total', { provider: 'pulsedive', call: 'info', cause: 'tls' }), 1);
    assert.equal(await metricValue(started.relay, 'ctr_relay_upstream_calls_total', { provider: 'pulsedive', call: 'info', status: 'tls' }), 1);
    assertNoSecret(started.lines, [PULSEDIVE_TEST_KEY, started.token]);
  }
});

test('undici and Node errors are classified by their code, causes included', () => {
  const coded = (code: string, message = 'x', cause?: unknown) => Object.assign(new Error(message, cause === undefined ? undefined : { cause }), { code });
  assert.deepEqual(classifyTransportError(coded('EAI_AGAIN')), { cause: 'dns', errorCode: 'EAI_AGAIN' });
  assert.deepEqual(classifyTransportError(coded('UND_ERR_CLOSED')), { cause: 'reset', errorCode: 'UND_ERR_CLOSED' });
  assert.deepEqual(classifyTransportError(coded('UND_ERR_HEADERS_TIMEOUT')), { cause: 'timeout', errorCode: 'UND_ERR_HEADERS_TIMEOUT' });
  assert.deepEqual(classifyTransportError(coded('EHOSTUNREACH')), { cause: 'unreachable', errorCode: 'EHOSTUNREACH' });
  assert.deepEqual(classifyTransportError(coded('HPE_INVALID_CONSTANT')), { cause: 'protocol', errorCode: 'HPE_INVALID_CONSTANT' });
  assert.deepEqual(classifyTransportError(coded('ERR_SSL_WRONG_VERSION_NUMBER', 'wrong version number')), {
    cause: 'tls',
    errorCode: 'ERR_SSL_WRONG_VERSION_NUMBER',
    reason: 'wrong version number',
  });
  // A wrapper without a known code: the cause underneath decides.
  assert.deepEqual(classifyTransportError(coded('UND_ERR_SOMETHING', 'fetch failed', coded('ECONNREFUSED'))), { cause: 'refused', errorCode: 'ECONNREFUSED' });
  assert.deepEqual(classifyTransportError(coded('EWHATEVER')), { cause: 'network', errorCode: 'EWHATEVER' });
  assert.deepEqual(classifyTransportError(new Error('no code')), { cause: 'network' });
});

test('errors are still de-duplicated by code and message, their observables merged and bounded', () => {
  const shared = new RelayError('service unavailable', 'down');
  const observables = new Map<RelayError, { type: string; value: string }[]>();
  const errors: RelayError[] = [];
  for (let index = 0; index < 30; index += 1) {
    const error = new RelayError('service unavailable', 'down');
    observables.set(error, [{ type: 'ip', value: `192.0.2.${index}` }]);
    errors.push(error);
  }
  // The deadline's one error object stands for several observables and appears once for each.
  observables.set(shared, [
    { type: 'domain', value: 'a.example' },
    { type: 'domain', value: 'b.example' },
  ]);
  errors.push(shared, shared, new RelayError('key error', 'changed'));
  const documents = uniqueErrors(errors, (error) => observables.get(error));
  assert.equal(documents.length, 2);
  assert.equal(documents[0]!.observables!.length, 20);
  assert.deepEqual(documents[0]!.observables![0], { type: 'ip', value: '192.0.2.0' });
  assert.equal(documents[0]!.observablesCount, 32);
  assert.deepEqual(documents[1], { type: 'fatal', code: 'key error', message: 'changed' });
  assert.deepEqual(uniqueErrors(errors), [
    { type: 'fatal', code: 'service unavailable', message: 'down' },
    { type: 'fatal', code: 'key error', message: 'changed' },
  ]);
});
