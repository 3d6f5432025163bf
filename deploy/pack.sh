#!/bin/sh
# Build the packages and pack them as the npm registry would serve them. The
# Dockerfile and test/deploy.test.ts both install these tarballs with
# production dependencies only, so the test checks what the image runs.
set -eu
out="${1:?usage: deploy/pack.sh OUTDIR}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
cd "$(dirname "$0")/.."
npm run build --silent
# The server and what it depends on (the publisher is packed too, for workers that publish from Node).
for p in protocol streams client publisher server; do
  npm pack -w "packages/$p" --pack-destination "$out" --silent >/dev/null
done
ls "$out"
