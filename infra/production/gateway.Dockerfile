# Hive Gateway with the Rust query planner, serving the committed supergraph.
FROM node:20-slim
WORKDIR /gateway
COPY gateway/package.json gateway/package-lock.json gateway/.npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY gateway/gateway.config.ts gateway/supergraph.graphql ./
USER node
EXPOSE 4000
CMD ["node", "node_modules/.bin/hive-gateway", "supergraph", "supergraph.graphql", "-c", "gateway.config.ts", "--hive-router-runtime"]
