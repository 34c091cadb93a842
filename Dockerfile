# tablevault as a container: `docker build -t tablevault .`, then e.g.
#   docker run --rm -e SHOP_DB_URL=… -e AWS_ACCESS_KEY_ID=… -e AWS_SECRET_ACCESS_KEY=… \
#     -v $PWD/strategies:/app/strategies:ro tablevault serve strategies/nightly-incremental.yaml --listen 0.0.0.0:9464
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# `npm install`, not `npm ci`: see .ci/run (the lock file cannot list other platforms' optional binaries)
RUN npm install --no-audit --no-fund
COPY tsconfig.json tsconfig.bench.json ./
COPY scripts ./scripts
COPY src ./src
COPY bench ./bench
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
# as the bin's shebang: two malloc arenas, and large buffers in mappings of their own, keep freed
# wire buffers from piling up
ENV MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=131072
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY migrations ./migrations
COPY strategies ./strategies
COPY fixtures ./fixtures
USER node
EXPOSE 9464
# the same flags as the bin's shebang (see src/cli.ts; test/unit/deploy-manifests.test.ts keeps them equal)
ENTRYPOINT ["node", "--max-semi-space-size=4", "--initial-old-space-size=64", "--wasm-tiering-budget=10000000", "dist/cli.js"]
CMD ["--help"]
