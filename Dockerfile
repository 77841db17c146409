# The cdcflow worker image. Build: docker build -t cdcflow .
# Node 24, the current LTS: Node 20 reached its end of life in April 2026 (cdcflow runs on 20 and up;
# the unit and integration tests pass on 24).
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# The workflow code bundled once here, so workers start without webpack (CDCFLOW_WORKFLOW_BUNDLE).
RUN npm run build && node dist/cli/main.js bundle --out dist/workflow-bundle.js && npm prune --omit=dev
# DuckDB's extensions (ducklake, sqlite, postgres, httpfs) from their PyPI wheels, for offline loading.
RUN apt-get update && apt-get install -y --no-install-recommends python3-pip && rm -rf /var/lib/apt/lists/*
COPY scripts ./scripts
RUN bash scripts/install-duckdb-extensions.sh

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/.cdcflow/duckdb-extensions ./.cdcflow/duckdb-extensions
COPY package.json ./
COPY config ./config
# Outputs and DuckDB spill files go to volumes mounted here.
RUN mkdir -p /data/warehouse /data/tmp && chown -R node:node /data
USER node
ENV CDCFLOW_DUCKDB_TEMP_DIR=/data/tmp
ENV CDCFLOW_WORKFLOW_BUNDLE=/app/dist/workflow-bundle.js
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["worker"]
