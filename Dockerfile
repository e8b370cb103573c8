# syntax=docker/dockerfile:1
#
# One image for every function. A Knative Service picks its function with the environment
# variable FUNCTION_TARGET (machine, datavolume, vmi, machineset, machinedeployment, resync),
# and the entrypoint starts that function from its V8 startup snapshot,
# dist/functions/$FUNCTION_TARGET/snapshot.blob (scripts/snapshot.ts): the function and
# functions-framework's server (scripts/serve.ts) with their modules already evaluated, which
# starts several times faster than the functions-framework CLI loading them file by file:
#
#   docker build -t ghcr.io/kubevirt-machine-functions/functions:latest .
#   docker run -e FUNCTION_TARGET=machine -p 8080:8080 ghcr.io/kubevirt-machine-functions/functions:latest
#
# Two stages: the bundles are built from the sources with the dev toolchain (esbuild, tsx),
# and the runtime image receives only those bundles and the production dependencies.

# ---- build: npm ci with dev dependencies, then the esbuild bundles ----
FROM node:24-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: the only install scripts in the tree are esbuild's (an optional speed-up;
# its JS API finds the binary through its platform optionalDependency) and the `node`
# devDependency's, which would download a second Node 24 that this image already has.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
# The image's own node (24), not `npm run build`: npm would put node_modules/.bin first on
# PATH, whose `node` is the devDependency's shim left uninstalled by --ignore-scripts.
RUN node --import tsx scripts/build.ts

# ---- runtime: node:24-slim, production dependencies, the function bundles, non-root ----
FROM node:24-slim
ENV NODE_ENV=production
# glibc's malloc asks for transparent huge pages (where the kernel's THP mode is `madvise`, the
# common default) for its large blocks: Node reads the ~10 MB startup snapshot into such blocks,
# and faulting them in 4 KiB pages was a third of the cold start (`npm run bench`: 206 → 146 ms).
ENV GLIBC_TUNABLES=glibc.malloc.hugetlb=1
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only. The server bundles are self-contained, but cloudevents'
# precompiled validator inside them may require() ajv's runtime helpers, and the index.js
# bundles (kept for `functions-framework --source=…`) import @google-cloud/functions-framework.
# No production dependency has an install script.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
# Only the function bundles (and their source maps); not the CLI, not the sources.
# package.json stays beside them: its "type": "module" is how Node and functions-framework
# know the .js bundles are ES modules.
COPY --from=build /src/dist/functions ./dist/functions
ENV PATH=/app/node_modules/.bin:$PATH
# The startup snapshots are written here, by this image's own node: a blob only starts on the
# exact Node binary that built it. (The build stage's blobs come from the same base image, but
# rebuilding them here makes that a certainty.)
RUN for d in dist/functions/*/; do node --snapshot-blob "$d/snapshot.blob" --build-snapshot "$d/snapshot-entry.cjs"; done
# Without the snapshot (`node dist/functions/<target>/server.cjs`, e.g. to debug), V8's compile
# cache, written once here and read at every start, still saves most of the compile time; the
# container's read-only root filesystem only stops it from being rewritten.
ENV NODE_COMPILE_CACHE=/app/.compile-cache
RUN for f in dist/functions/*/server.cjs; do KMF_WARM_COMPILE_CACHE=1 node "$f"; done
# The official image's `node` user, numerically: with a user name the kubelet cannot verify
# the pod's `runAsNonRoot: true` and refuses to start the container. Files stay root-owned
# and read-only to it (the Services also mount the root filesystem read-only).
USER 1000:1000
# Knative sets PORT from the Service's containerPort (8080); the server reads it.
EXPOSE 8080
# A shell only to expand $FUNCTION_TARGET; `exec` makes node PID 1 so it receives SIGTERM.
ENTRYPOINT ["/bin/sh", "-c", ": \"${FUNCTION_TARGET:?set FUNCTION_TARGET to the function to serve, e.g. machine}\"; exec node --snapshot-blob \"dist/functions/$FUNCTION_TARGET/snapshot.blob\"", "server"]
