// Fixture: stands for the real deploy/docker/prune-runtime-deps.js.
