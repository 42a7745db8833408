# syntax=docker/dockerfile:1
# Stepwise FHIR server. Build: docker build -t stepwise .
# Run on the embedded database: docker run -p 8080:8080 -v stepwise-data:/data stepwise
# Run on PostgreSQL:           docker run -p 8080:8080 -e DATABASE_URL=postgres://… -e STEPWISE_AUTH=on -e STEPWISE_CLIENTS=… -e STEPWISE_TOKEN_KEY=… stepwise
#                               (STEPWISE_AUTH=off for development only; see the README, "Security")

# Production dependencies only: esbuild bundles the TypeScript (tsx, also one of them, runs it where
# no bundle can be built); the `node` dev dependency (Node 24 for npm start outside a container) is
# not needed: the image has Node 24.
FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:24-slim AS runtime
# SHUTDOWN_GRACE_SECONDS stays under docker stop's default 10 s, so a shutdown drains before SIGKILL.
# CACHE_DIR: what start-up builds once (trimmed R4 definitions, the template of a new database)
# goes in the node user's home, so the application files can stay read-only to it.
ENV NODE_ENV=production \
    PORT=8080 \
    HOST=0.0.0.0 \
    DATA_DIR=/data \
    CACHE_DIR=/home/node/.cache/stepwise \
    SHUTDOWN_GRACE_SECONDS=8 \
    LOG_LEVEL=info
WORKDIR /app
# owned by root and readable by all: the server cannot change its own code
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY profiles ./profiles
COPY mappings ./mappings
# bundle the server now (bin/server-bundle.mjs), so that no container start runs tsx over its sources
RUN node -e "import('./bin/server-bundle.mjs').then(async (m) => process.exit((await m.serverBundle()) ? 0 : 1))"
RUN mkdir -p /data /home/node/.cache/stepwise && chown node:node /data /home/node/.cache /home/node/.cache/stepwise
USER node
VOLUME ["/data"]
EXPOSE 8080
# liveness: the process answers (GET /readyz tells whether it can take FHIR traffic; slim images have no curl)
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# bin/start.mjs checks the Node version, then runs the bundled server (as npm start does); Node
# handles SIGTERM itself, so no init process is needed to stop it cleanly
CMD ["node", "bin/start.mjs"]
