# syntax=docker/dockerfile:1
# One image, four roles: docker run IMAGE gateway | orchestrator | worker | migrate
# Node 22 is the supported LTS the image runs; the code also builds and runs on Node 20.10+.
ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY . .
# dev dependencies build the JavaScript; then they are pruned for the runtime stage
RUN npm ci --no-audit --no-fund \
  && npm run build \
  && npm prune --omit=dev --no-audit --no-fund \
  && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8000
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
# the migrations ship with the shared package, found through its package.json
COPY --from=build /app/packages/shared/package.json packages/shared/
COPY --from=build /app/packages/shared/migrations packages/shared/migrations
COPY --from=build /app/dist dist
# the browser client, found through its package.json
COPY --from=build /app/packages/web/package.json packages/web/
COPY --from=build /app/packages/web/dist packages/web/dist
USER node
EXPOSE 8000
# the gateway's liveness; compose.yaml gives the other roles their own check
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# the orchestrator and worker roles want NODE_OPTIONS=--max-semi-space-size=32 (compose.yaml sets it)
ENTRYPOINT ["node", "--enable-source-maps", "dist/role.js"]
CMD ["gateway"]
