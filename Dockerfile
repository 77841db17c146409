# The cdcflow worker image. Build: docker build -t cdcflow .
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY config ./config
# Outputs and DuckDB spill files go to volumes mounted here.
RUN mkdir -p /data/warehouse /data/tmp && chown -R node:node /data
USER node
ENV CDCFLOW_DUCKDB_TEMP_DIR=/data/tmp
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["worker"]
