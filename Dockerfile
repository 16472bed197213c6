# mdm-discovery container image. Build: docker build -t mdm-discovery .
# The base is the official Node.js 24 LTS slim image, pinned by tag.
ARG NODE_IMAGE=docker.io/library/node:24.21.0-bookworm-slim

FROM ${NODE_IMAGE} AS build
# Behind a TLS-inspecting proxy, npm needs its CA: pass its path in the build stage,
#   --build-arg NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
# with podman or buildah also mounting it (--volume /etc/ssl/certs:/etc/ssl/certs:ro); Docker's
# builder mounts nothing, so there the base image must hold it. The final image is not affected.
ARG NODE_EXTRA_CA_CERTS
WORKDIR /app
COPY package.json npm-shrinkwrap.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund --ignore-scripts

FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    ADMIN_HOST=0.0.0.0 \
    ADMIN_PORT=9090 \
    LOG_FORMAT=json \
    MDM_DISCOVERY_CONFIG=/etc/mdm-discovery
WORKDIR /app
# Owned by root and read-only to the service: it runs as the unprivileged node user and writes
# nothing, so the container works with a read-only root file system.
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY config ./config
# The demo config until a config directory is mounted over /etc/mdm-discovery.
COPY config/default.json /etc/mdm-discovery/default.json
USER node
EXPOSE 8080 9090
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "/app/dist/cli/index.js", "healthcheck"]
ENTRYPOINT ["node", "/app/dist/cli/index.js"]
CMD ["serve"]
