# The single image: the controller (`run`), and later the madison-proxy program (`proxy`).
# Build: docker build -t flant-integration-controller:dev .
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY cdk8s ./cdk8s
COPY e2e ./e2e
COPY bin ./bin
RUN npm run build && npm prune --omit=dev

FROM gcr.io/distroless/nodejs20-debian12:nonroot
WORKDIR /app
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=build /src/bin ./bin
COPY config/samples ./config/samples
USER 65532:65532
ENTRYPOINT ["/nodejs/bin/node", "/app/bin/flant-integration.js"]
CMD ["run", "--leader-elect"]
