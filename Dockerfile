# The ciu worker image (docker-compose.yml service ciu-worker). Runs the TypeScript sources with tsx,
# as `npm start` does; the Temporal SDK's native core needs glibc, hence Debian slim, not Alpine.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY bin ./bin
COPY src ./src
COPY activities ./activities
COPY workflows ./workflows
COPY workers ./workers
COPY tsconfig.json ./
USER node
# 9464: Temporal runtime metrics; 9465: ciu's own counters (src/metrics.ts).
EXPOSE 9464 9465
ENTRYPOINT ["node", "bin/ciu.js"]
CMD ["worker"]
