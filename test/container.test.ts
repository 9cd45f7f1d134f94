// The container and the Kubernetes example keep what operators rely on: a non-root multi-stage
// image with production dependencies only, a HEALTHCHECK and port 9090; probes on the relay's
// liveness and readiness routes. (Building the image needs Docker; CI does that, not this suite.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const read = (path: string): string => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

test('Dockerfile: multi-stage, npm ci --omit=dev, non-root, HEALTHCHECK on /healthz, port 9090', () => {
  const dockerfile = read('Dockerfile');
  assert.ok((dockerfile.match(/^FROM /gm) ?? []).length >= 2, 'a build stage and a runtime stage');
  assert.match(dockerfile, /^RUN npm ci --omit=dev\b/m);
  assert.match(dockerfile, /^COPY --from=build \/app\/dist \.\/dist$/m);
  assert.match(dockerfile, /^USER node$/m);
  assert.match(dockerfile, /^EXPOSE 9090$/m);
  assert.match(dockerfile, /^HEALTHCHECK [^\n]*\\\n\s+CMD [^\n]*\/healthz/m);
  assert.match(dockerfile, /^CMD \["sh", "-c", "node dist\/launch\.js --check && exec node --max-old-space-size=\$\{HEAP_MB:-256\} --max-semi-space-size=4 dist\/server\.js"\]$/m);
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
  assert.match(relay, /name: REDIS_URL\n\s+value: redis:\/\/:\$\(REDIS_PASSWORD\)@ctr-relay-redis:6379/);
  const redis = read('deploy/kubernetes/redis.yaml');
  assert.match(redis, /^ {2}name: ctr-relay-redis$/m);
  assert.match(redis, /^kind: Service$/m);
  const kustomization = read('deploy/kubernetes/kustomization.yaml');
  for (const file of ['relay.yaml', 'redis.yaml']) assert.match(kustomization, new RegExp(`- ${file.replace('.', '\\.')}`));
});

test('Kubernetes: no placeholder secret, Redis with a password, a NetworkPolicy, no service-account token, an Ingress with TLS', () => {
  const kustomization = read('deploy/kubernetes/kustomization.yaml');
  assert.doesNotMatch(kustomization, /^\s+- secret[^\n]*\.yaml$/m, 'no Secret manifest among the resources');
  assert.match(kustomization, /secretGenerator:\n\s+- name: ctr-relay\n\s+envs:\n\s+- secret\.env/);
  assert.match(kustomization, /^\s+- network-policy\.yaml$/m);
  assert.ok(read('.gitignore').split('\n').includes('deploy/kubernetes/secret.env'));
  assert.doesNotMatch(read('deploy/kubernetes/secret.env.example'), /^[A-Z_]+=/m, 'the example defines no value');
  for (const file of readdirSync(fileURLToPath(new URL('../deploy/kubernetes/', import.meta.url)))) {
    assert.doesNotMatch(read(`deploy/kubernetes/${file}`), /replace-with|changeme/i, file);
  }

  const redis = read('deploy/kubernetes/redis.yaml');
  assert.match(redis, /args: \["--requirepass", "\$\(REDIS_PASSWORD\)"/);
  assert.match(redis, /name: REDIS_PASSWORD\n\s+valueFrom:\n\s+secretKeyRef:\n\s+name: ctr-relay\n\s+key: REDIS_PASSWORD/);
  assert.match(redis, /name: REDISCLI_AUTH\n/);
  for (const manifest of [redis, read('deploy/kubernetes/relay.yaml')]) assert.match(manifest, /^ {6}automountServiceAccountToken: false$/m);

  const policy = read('deploy/kubernetes/network-policy.yaml');
  assert.equal((policy.match(/^kind: NetworkPolicy$/gm) ?? []).length, 2);
  assert.match(policy, /policyTypes: \[Ingress, Egress\]/);
  for (const port of [9090, 53, 6379, 443]) assert.match(policy, new RegExp(`port: ${port}\\b`), String(port));
  assert.match(policy, /egress: \[\]/, 'Redis reaches nothing');

  const ingress = read('deploy/kubernetes/ingress.yaml');
  assert.match(ingress, /^kind: Ingress$/m);
  assert.match(ingress, /tls:\n\s+- hosts:\n\s+- relay\.example\.com\n\s+secretName: ctr-relay-tls/);
});

const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
test('kubectl kustomize refuses without secret.env, and builds with one: every reference names the generated Secret', { skip: kubectl.status !== 0 && 'kubectl is not installed' }, () => {
  const source = fileURLToPath(new URL('../deploy/kubernetes/', import.meta.url));
  const directory = mkdtempSync(join(tmpdir(), 'ctr-relay-kustomize-'));
  for (const file of readdirSync(source).filter((name) => name.endsWith('.yaml'))) copyFileSync(join(source, file), join(directory, file));
  const refused = spawnSync('kubectl', ['kustomize', directory], { encoding: 'utf8' });
  assert.notEqual(refused.status, 0);
  assert.match(refused.stderr, /secret\.env/);

  writeFileSync(join(directory, 'secret.env'), `SECRET_KEY=${'a'.repeat(64)}\nMETRICS_TOKEN=${'b'.repeat(64)}\nREDIS_PASSWORD=${'c'.repeat(64)}\n`);
  const built = spawnSync('kubectl', ['kustomize', directory], { encoding: 'utf8' });
  assert.equal(built.status, 0, built.stderr);
  const secretName = /^kind: Secret\nmetadata:\n {2}name: (ctr-relay-[a-z0-9]+)$/m.exec(built.stdout)?.[1];
  assert.ok(secretName, built.stdout.slice(0, 400));
  const references = [...built.stdout.matchAll(/secretKeyRef:\n\s+key: [A-Z_]+\n\s+name: (\S+)/g)].map((match) => match[1]);
  assert.ok(references.length >= 5, `secret references: ${references.length}`);
  for (const name of references) assert.equal(name, secretName);
});
