# phone-verify image: build with dev dependencies, then a slim runtime with production ones only.
# Runs as the unprivileged `node` user under tini; SQLite data lives in the /data volume and
# custom SMS backends are read from /plugins (mount it read-only). Migrations run at start.

# ---- build: compile better-sqlite3, generate the Prisma clients, tsc, then drop dev dependencies
FROM node:22-bookworm AS build
WORKDIR /app
# Dependencies first, so source edits reuse this layer. --ignore-scripts skips `prepare` (the
# sources are not here yet); better-sqlite3's native addon is then built on its own.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && npm rebuild better-sqlite3
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY prisma ./prisma
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && node scripts/trim-production-modules.mjs node_modules \
 && npm cache clean --force

# ---- runtime
FROM node:22-bookworm-slim
# tini as PID 1: forwards SIGTERM to node (graceful stop, exit 0) and reaps zombies, also under a
# plain `docker run` without --init.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    DATABASE_URL=file:/data/phone-verify.db \
    PLUGINS_DIR=/plugins \
    PORT=3000 \
    HOST=0.0.0.0
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/prisma ./prisma
# /data is the service's to write; /plugins belongs to root and is only read (mount it :ro).
RUN mkdir -p /data /plugins \
 && chown node:node /data \
 && chmod 0755 /plugins
USER node
VOLUME /data
EXPOSE 3000
# node's own fetch: no curl in the image.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
# node directly, not npm: signals reach the service.
CMD ["node", "dist/server.js"]
