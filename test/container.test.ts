// The container and the Kubernetes example keep what operators rely on: a non-root multi-stage
// image with production dependencies only, a HEALTHCHECK and port 9090; probes on the relay's
// liveness and readiness routes. (Building the image needs Docker; CI does that, not this suite.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const read = (path: string): string => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

test('Dockerfile: multi-stage, npm ci --omit=dev, non-root, HEALTHCHECK on /healthz, port 9090', () => {
  const dockerfile = read('Dockerfile');
  assert.ok((dockerfile.match(/^FROM /gm) ?? []).length >= 2, 'a build stage and a runtime stage');
  assert.match(dockerfile, /^RUN npm ci --omit=dev\b/m);
  assert.match(dockerfile, /^COPY --from=build \/app\/dist \.\/dist$/m);
  assert.match(dockerfile, /^USER node$/m);
  assert.match(dockerfile, /^EXPOSE 9090$/m);
  assert.match(dockerfile, /^HEALTHCHECK [^\n]*\\\n\s+CMD [^\n]*\/healthz/m);
  assert.match(dockerfile, /^CMD \["sh", "-c", "node dist\/launch\.js --check && exec node --max-old-space-size=\$\{HEAP_MB:-256\} --max-semi-space-size=8 dist\/server\.js"\]$/m);
  // The current Node LTS, an exact release, the same one .ci/run tests on.
  const pinned = /^ARG NODE_IMAGE=node:(\d+\.\d+\.\d+)-alpine$/m.exec(dockerfile)?.[1];
  assert.ok(pinned !== undefined && Number(pinned.split('.')[0]) >= 26, `an exact Node 26+ release (got ${pinned})`);
  assert.match(read('.ci/run'), new RegExp(`^NODE_LTS_VERSION=${pinned.replace(/\./g, '\\.')}$`, 'm'));
});

test('.dockerignore keeps secrets and local builds out of the image context', () => {
  const ignored = read('.dockerignore').split('\n');
  for (const entry of ['.env', 'node_modules', 'dist', '.git']) assert.ok(ignored.includes(entry), entry);
});

test('Kubernetes: probes on /healthz and /readyz, a Service, Redis for the relay', () => {
  const relay = read('deploy/kubernetes/relay.yaml');
  assert.match(relay, /livenessProbe:\n\s+httpGet:\n\s+path: \/healthz/);
  assert.match(relay, /readinessProbe:\n\s+httpGet:\n\s+path: \/readyz/);
  assert.match(relay, /^kind: Service$/m);
  assert.match(relay, /containerPort: 9090/);
  assert.match(relay, /runAsNonRoot: true/);
  assert.match(relay, /name: REDIS_URL\n\s+value: redis:\/\/ctr-relay-redis:6379/);
  const redis = read('deploy/kubernetes/redis.yaml');
  assert.match(redis, /^ {2}name: ctr-relay-redis$/m);
  assert.match(redis, /^kind: Service$/m);
  const kustomization = read('deploy/kubernetes/kustomization.yaml');
  for (const file of ['relay.yaml', 'redis.yaml']) assert.match(kustomization, new RegExp(`- ${file.replace('.', '\\.')}`));
});
