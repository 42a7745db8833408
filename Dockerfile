# syntax=docker/dockerfile:1
# Stepwise FHIR server. Build: docker build -t stepwise .
# Run on the embedded database: docker run -p 8080:8080 -v stepwise-data:/data stepwise
# Run on PostgreSQL:           docker run -p 8080:8080 -e DATABASE_URL=postgres://… stepwise

FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# production dependencies only; the `node` dev dependency is not needed: the image has Node 24
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:24-slim AS runtime
ENV NODE_ENV=production \
    PORT=8080 \
    HOST=0.0.0.0 \
    DATA_DIR=/data \
    LOG_LEVEL=info
WORKDIR /app
COPY --from=deps --chown=node:node /app/node_modules ./node_modules
COPY --chown=node:node package.json tsconfig.json ./
COPY --chown=node:node src ./src
COPY --chown=node:node bin ./bin
COPY --chown=node:node profiles ./profiles
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/readyz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
CMD ["node", "--import", "tsx", "src/main.ts"]
