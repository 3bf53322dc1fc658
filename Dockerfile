# sip-bastion on Debian slim with Node 20. Build: docker build -t sip-bastion .
# Run:  docker run --rm -v /etc/sip-bastion:/etc/sip-bastion:ro -p 5061:5061 -p 5060:5060/udp \
#         -p 127.0.0.1:8061:8061 sip-bastion
# The config must bind the admin listener to 0.0.0.0 inside the container (with token_file) for the
# published port; the health check asks /readyz from inside.

# ---- build: compile the WASM runtime and the TypeScript, pack the package as npm would ship it
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY . .
RUN npm ci --no-audit --no-fund && npm pack --ignore-scripts --pack-destination /tmp

# ---- run: the packed package installed with its runtime dependencies only
FROM node:20-bookworm-slim
RUN groupadd --system sip-bastion \
 && useradd --system --gid sip-bastion --home-dir /var/lib/sip-bastion --create-home --shell /usr/sbin/nologin sip-bastion
COPY --from=build /tmp/sip-bastion-*.tgz /tmp/
RUN npm install --global --omit=dev --no-audit --no-fund --prefix /opt/sip-bastion /tmp/sip-bastion-*.tgz \
 && rm /tmp/sip-bastion-*.tgz && npm cache clean --force
USER sip-bastion
WORKDIR /var/lib/sip-bastion
EXPOSE 5060/udp 5060/tcp 5061/tcp 8061/tcp
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8061/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
STOPSIGNAL SIGTERM
# the V8 flag the launcher would re-execute itself with: one process, signals straight to it
ENTRYPOINT ["node", "--max-semi-space-size=32", "/opt/sip-bastion/bin/bastion"]
CMD ["run", "--config", "/etc/sip-bastion/bastion.yaml"]
