# One image, three roles: docker run IMAGE gateway | orchestrator | worker | migrate
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/shared/package.json packages/shared/
COPY services/api-gateway/package.json services/api-gateway/
COPY services/orchestrator/package.json services/orchestrator/
COPY services/execution-worker/package.json services/execution-worker/
RUN npm ci --no-audit --no-fund && npm cache clean --force
COPY . .
# tsx (a dev dependency) runs the TypeScript sources directly; production mode after install
ENV NODE_ENV=production HOST=0.0.0.0
USER node
EXPOSE 8000
# the services' Node options (scripts/lib/service-process.ts): run the orchestrator and worker roles
# with NODE_OPTIONS=--max-semi-space-size=32
ENTRYPOINT ["node", "--import", "tsx", "scripts/role.ts"]
CMD ["gateway"]
