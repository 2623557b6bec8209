# The single image: the controller (`run`) and the madison-proxy program (`proxy`).
# It holds the build of src/ and the production dependencies only: no e2e harness, no
# cdk8s app, no samples. Build: docker build -t flant-integration-controller:dev .
#
# Bases: node:20-bookworm-slim (Debian 12 with Node 20 and npm) compiles the TypeScript and
# prunes the dev dependencies; gcr.io/distroless/nodejs20-debian12:nonroot (Node 20 on
# Debian 12, no shell, no package manager, user nonroot = 65532) runs it. Every pod the
# controller generates runs as that UID with a read-only root filesystem.
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.image.json ./
COPY src ./src
RUN npx tsc -p tsconfig.image.json && npm prune --omit=dev

FROM gcr.io/distroless/nodejs20-debian12:nonroot
WORKDIR /app
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY bin ./bin
USER 65532:65532
ENTRYPOINT ["/nodejs/bin/node", "/app/bin/flant-integration.js"]
CMD ["run", "--leader-elect"]
