// GET /openapi.json is a valid OpenAPI 3 document describing every module's routes, /docs serves
// the docs page, and the documentation-only schemas change nothing about how bodies are handled.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Validator } from '@seriousme/openapi-schema-validator';
import { PROVIDERS } from '../src/providers/registry.js';
import { echoProvider } from './helpers/echo-provider.js';
import { startFakeUpstream, type FakeUpstream } from './helpers/fake-upstream.js';
import { startRelay, type RunningRelay } from './helpers/relay.js';
import { SCENARIOS } from './helpers/scenarios.js';
import { TEST_SECRET, bearer, hs256Token } from './helpers/tokens.js';

const MODULE_ROUTES = [
  ['post', '/health'],
  ['post', '/deliberate/observables'],
  ['post', '/observe/observables'],
  ['post', '/refer/observables'],
  ['post', '/version'],
  ['get', '/watchdog'],
] as const;

describe('the OpenAPI document of a relay with every module', () => {
  let relay: RunningRelay;
  let document: any;
  before(async () => {
    relay = await startRelay({});
    const answer = await relay.get('/openapi.json');
    assert.equal(answer.status, 200);
    document = answer.json;
  });
  after(() => relay.close());

  test('is valid OpenAPI 3', async () => {
    const result = await new Validator().validate(document);
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
    assert.match(document.openapi, /^3\./);
    assert.equal(document.info.title, 'ctr-relay');
  });

  test("describes every module's routes and the server's own", () => {
    for (const provider of PROVIDERS) {
      for (const [method, path] of MODULE_ROUTES) {
        assert.ok(document.paths[`/${provider.id}${path}`]?.[method], `${method.toUpperCase()} /${provider.id}${path}`);
      }
    }
    for (const path of ['/', '/healthz', '/readyz', '/metrics']) assert.ok(document.paths[path]?.get, `GET ${path}`);
    assert.equal(document.paths['/openapi.json'], undefined, 'the document itself is left out');
  });

  test('asks for the bearer token exactly where the module reads one', () => {
    for (const provider of PROVIDERS) {
      const observe = document.paths[`/${provider.id}/observe/observables`].post;
      const expected = provider.credentialsSchema === null ? [] : [{ configurationToken: [] }];
      assert.deepEqual(observe.security, expected, provider.id);
      assert.equal(observe.requestBody.content['application/json'].schema.type, 'array');
    }
    assert.equal(document.components.securitySchemes.configurationToken.scheme, 'bearer');
  });
});

describe('GET /docs', () => {
  test('serves the docs page', async () => {
    const relay = await startRelay({ PROVIDERS: 'cybercrime-tracker' });
    try {
      const response = await fetch(`${relay.url}/docs`);
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /text\/html/);
      assert.match(await response.text(), /swagger-ui/i);
    } finally {
      await relay.close();
    }
  });
});

describe('route schemas are documentation only', () => {
  const cybercrime = SCENARIOS.find((scenario) => scenario.providerId === 'cybercrime-tracker')!;
  let fake: FakeUpstream;
  let relay: RunningRelay;
  let token: string;
  before(async () => {
    fake = await startFakeUpstream(cybercrime.handler);
    relay = await startRelay(
      { PROVIDERS: 'cybercrime-tracker,echo', SECRET_KEY: TEST_SECRET, ...cybercrime.envFor(fake.url) },
      { providers: [...PROVIDERS, echoProvider] },
    );
    token = await hs256Token({ key: 'k' });
  });
  after(async () => {
    await relay.close();
    await fake.close();
  });

  // Bodies the documented schema would refuse: Fastify's own validation would answer them 400 with
  // its own error shape; the contract wants 200 and `invalid argument` from the relay's parser.
  const badBodies: [string, string | undefined, string][] = [
    ['not JSON', '[{"type": "ip",', 'not valid JSON'],
    ['an object', '{"type": "ip", "value": "198.51.100.7"}', 'Expected a list of observables'],
    ['an empty value', '[{"type": "ip", "value": ""}]', '0.value: Field may not be blank'],
    ['a number', '[{"type": "ip", "value": 7}]', '0.value: Not a valid string'],
    ['no body', undefined, 'The request body is empty'],
  ];
  for (const path of ['/cybercrime-tracker/observe/observables', '/cybercrime-tracker/refer/observables', '/echo/deliberate/observables']) {
    for (const [name, body, message] of badBodies) {
      test(`${path}: ${name} gets the contract's invalid argument`, async () => {
        const answer = await relay.post(path, body, { ...bearer(token), 'content-type': 'application/json' });
        assert.equal(answer.status, 200);
        assert.equal(answer.json.errors?.length, 1, JSON.stringify(answer.json));
        assert.equal(answer.json.errors[0].code, 'invalid argument');
        assert.match(answer.json.errors[0].message, /^Invalid JSON payload received\. /);
        assert.ok(answer.json.errors[0].message.includes(message), answer.json.errors[0].message);
      });
    }
  }

  test('answers are sent whole, not reduced to the documented fields', async () => {
    const answer = await relay.post('/cybercrime-tracker/observe/observables', cybercrime.observables(1));
    const [verdict] = answer.json.data.verdicts.docs;
    for (const field of ['type', 'disposition', 'disposition_name', 'observable', 'valid_time']) assert.ok(field in verdict, field);
    const [judgement] = answer.json.data.judgements.docs;
    for (const field of ['id', 'schema_version', 'source', 'confidence', 'severity', 'priority']) assert.ok(field in judgement, field);
  });
});
