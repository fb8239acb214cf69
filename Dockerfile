# The ciu worker image (docker-compose.yml service ciu-worker): compiled JavaScript and the prebuilt
# workflow bundle, so a worker starts without TypeScript or webpack. The Temporal SDK's native core
# needs glibc, hence Debian slim, not Alpine. The dev kit (devkit/) is not in the build context
# (.dockerignore); its types are not needed to emit JavaScript, hence --noCheck (`npm test` typechecks).
FROM node:20.19.5-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
RUN npm ci --ignore-scripts
COPY src ./src
COPY activities ./activities
COPY workflows ./workflows
COPY workers ./workers
RUN npx tsc -p tsconfig.build.json --noCheck && node dist/workers/bundle.js

FROM node:20.19.5-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY bin ./bin
COPY --from=build /app/dist ./dist
USER node
# 9464: Temporal runtime metrics; 9465: ciu's own counters (src/metrics.ts).
EXPOSE 9464 9465
ENTRYPOINT ["node", "bin/ciu.js"]
CMD ["worker"]
