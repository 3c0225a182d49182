#!/usr/bin/env bash
# Installs playwright-core from the npm registry into the build folder, as
# package-lock.json pins it (npm ci), unless that exact lock is installed.
#   setup.sh SOURCE_DIR WORK_DIR
set -euo pipefail
src=$1
work=$2
mkdir -p "$work"
command -v npm > /dev/null || { echo "npm is missing: run scripts/deps.sh" >&2; exit 1; }
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || { echo "chromium is missing: run scripts/deps.sh" >&2; exit 1; }
if cmp -s "$src/package-lock.json" "$work/node_modules/.coroscope-lock" 2> /dev/null; then
  echo "playwright-core already installed in $work"
  exit 0
fi
cp "$src/package.json" "$src/package-lock.json" "$work/"
(cd "$work" && npm ci --no-audit --no-fund --loglevel=error)
cp "$src/package-lock.json" "$work/node_modules/.coroscope-lock"
