#!/usr/bin/env bash
# Runs the tablet page's browser test: installs playwright-core (never a browser: Debian's
# /usr/bin/chromium is used) from the committed package-lock.json into NPM_DIR outside the source
# tree, then runs tablet_e2e.js against the real siterelay binary ($SITERELAY_BINARY).
# Usage: run_e2e.sh NPM_DIR
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
npm_dir="${1:?usage: run_e2e.sh NPM_DIR}"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

if [[ ! -x /usr/bin/chromium ]]; then
    echo "tablet e2e: /usr/bin/chromium is missing; run scripts/install-deps.sh --test" >&2
    exit 1
fi
mkdir -p "$npm_dir"
# Reinstall only when the lock file changed, so a rerun costs nothing and needs no network.
if ! cmp -s "$here/package-lock.json" "$npm_dir/package-lock.json" || [[ ! -d "$npm_dir/node_modules/playwright-core" ]]; then
    cp "$here/package.json" "$here/package-lock.json" "$npm_dir/"
    (cd "$npm_dir" && npm ci --no-audit --no-fund --loglevel=error)
fi
export SITERELAY_NODE_MODULES="$npm_dir/node_modules"
exec node "$here/tablet_e2e.js"
