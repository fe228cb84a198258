# One image for both the api and worker services: TRIBUTARY_ROLE (api | worker | all) picks what a
# container runs, so the two can never drift apart in code or dependencies.

# --- manifests: only the package.json files, so `npm ci` below stays cached until a dependency changes.
# A plain `COPY <ws>/package.json` would fail for a workspace that has none yet; this stage tolerates that.
FROM node:20-bookworm-slim AS manifests
WORKDIR /src
COPY . .
RUN mkdir /manifests \
  && cp package.json package-lock.json /manifests/ \
  && for ws in $(node -p "require('./package.json').workspaces.join(' ')"); do \
       if [ -f "$ws/package.json" ]; then mkdir -p "/manifests/$ws" && cp "$ws/package.json" "/manifests/$ws/"; fi; \
     done

# --- build: install every dependency and bundle the builder UI.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY --from=manifests /manifests/ ./
# Dev dependencies stay: the services run TypeScript through tsx, which is a root devDependency.
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build --workspace builder-ui

# --- runtime
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    TRIBUTARY_ROLE=all \
    HOST=0.0.0.0 \
    PORT=3000 \
    TRIBUTARY_HOME=/data/home \
    TRIBUTARY_DATA_DIR=/data/files
WORKDIR /app
# The app stays owned by root so the service user cannot rewrite its own code; only /data is writable.
COPY --from=build /app /app
# Named volumes mounted here start from the image's copy, so they inherit the node user's ownership.
RUN mkdir -p /data/home /data/files && chown -R node:node /data
USER node
EXPOSE 3000
# Only meaningful for roles that serve HTTP: the worker service turns it off in docker-compose.yml.
# curl is not in slim images, and Node 20 has fetch built in.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/api/health').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
CMD ["npx", "tsx", "engine/src/cli/start.ts"]
