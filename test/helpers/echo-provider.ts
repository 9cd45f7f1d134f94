// A provider that needs credentials and calls no upstream: for the core's auth and envelope tests.
import { z } from 'zod/v4';
import { buildJudgement, buildVerdict } from '../../src/core/ctim.js';
import { RelayError } from '../../src/core/errors.js';
import { defineProvider } from '../../src/core/provider.js';

export const echoProvider = defineProvider({
  id: 'echo',
  displayName: 'Echo',
  supportedTypes: ['ip', 'domain'],
  credentialsSchema: z.object({ key: z.string().min(1) }),
  settingsSchema: z.object({}),
  async health() {},
  async observe({ now }, observable) {
    // `fail.example.com` fails, so partial answers can be tested.
    if (observable.value === 'fail.example.com') throw new RelayError('service unavailable', 'Echo is unavailable.');
    // `bug.example.com` throws what a module bug would throw.
    if (observable.value === 'bug.example.com') throw new TypeError('cannot read properties of undefined');
    const validTime = { start_time: now.toISOString() };
    const judgement = buildJudgement({ observable, disposition: 'malicious', source: 'Echo', validTime, confidence: 'High', severity: 'High', priority: 85 });
    return { verdicts: [buildVerdict(observable, 'malicious', validTime)], judgements: [judgement] };
  },
});
