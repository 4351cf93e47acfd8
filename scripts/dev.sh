#!/usr/bin/env bash
# Sets up what is missing, builds, and runs StockEdge locally under `wrangler dev` (workerd) on
# http://127.0.0.1:8787 with local persistence (.wrangler/state), seeding a few demo SKUs the
# first time. Ctrl-C stops it. PORT=… to use another port.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${PORT:-8787}"
bash scripts/setup.sh
source scripts/toolchain.sh
bash scripts/build-worker.sh

# The catalogue's schema (D1, migrations/) in the local state, before the Worker uses it.
CI=1 node_modules/.bin/wrangler d1 migrations apply stockedge-catalog --local >/dev/null

STOCKEDGE_SKIP_BUILD=1 setsid node_modules/.bin/wrangler dev --local --ip 127.0.0.1 --port "$PORT" \
  --show-interactive-dev-session=false --test-scheduled &
WRANGLER=$!
trap 'kill -TERM -- -$WRANGLER 2>/dev/null || true' EXIT INT TERM

URL="http://127.0.0.1:$PORT"
for _ in $(seq 1 120); do
  curl -fs "$URL/healthz" >/dev/null 2>&1 && break
  kill -0 "$WRANGLER" 2>/dev/null || { echo "wrangler dev exited" >&2; exit 1; }
  sleep 1
done
node scripts/seed-demo.mjs "$URL"
cat <<MSG

StockEdge is running at $URL  (state in .wrangler/state; Ctrl-C to stop)

  Operator console: $URL/  (sign in with the token dev-admin; docs/console.md)

  curl -s $URL/healthz
  curl -s -H 'authorization: Bearer dev-storefront' '$URL/v1/availability?sku=TEE-BLK-M&sku=MUG-01'
  curl -s -H 'authorization: Bearer dev-storefront' -H 'content-type: application/json' -X POST $URL/v1/reservations \\
       -d '{"lines":[{"sku":"TEE-BLK-M","qty":2},{"sku":"MUG-01","qty":1}],"ttl_seconds":300}'
  curl -s -H 'authorization: Bearer dev-storefront' -H 'content-type: application/json' -X POST $URL/v1/reservations/<id>/commit -d '{"order_id":"1001"}'
  curl -s -H 'authorization: Bearer dev-admin' -H 'content-type: application/json' -X POST $URL/v1/sales \\
       -d '{"channel":"amazon","order_id":"113-0000001","lines":[{"sku":"MUG-01","qty":1}]}'
  curl -s -H 'authorization: Bearer dev-admin' $URL/v1/skus/TEE-BLK-M
  curl -s -H 'authorization: Bearer dev-admin' $URL/v1/skus/TEE-BLK-M/journal

MSG
wait "$WRANGLER"
