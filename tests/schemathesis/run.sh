#!/usr/bin/env bash
# API conformance: starts `outflow demo` on a free port with a fresh data directory (and, for
# postgres, a fresh database), then runs schemathesis with all its checks against the served
# /v1/openapi.json: first the organization-key routes with the demo's organization key, then
# the ingest-key routes with its ingest key. Any 5xx or conformance finding fails the run.
#
#   tests/schemathesis/run.sh sqlite|postgres
#
# Bounds: ST_MAX_EXAMPLES cases per operation (default 20) and ST_MAX_TIME seconds per key
# (default 20). ST_OUTFLOW_BIN picks the binary (default: the one `cargo test` builds).
set -euo pipefail
backend="${1:-sqlite}"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
if [ -n "${ST_OUTFLOW_BIN:-}" ]; then
  bin="$ST_OUTFLOW_BIN"
else
  # The binary `cargo test` builds for the integration tests: a plain `cargo build` would
  # compile reqwest, utoipa and everything above them a second time (dev-dependencies change
  # their features), doubling the target directory's size.
  (cd "$root" && cargo test --locked --quiet --no-run --test it)
  bin="${CARGO_TARGET_DIR:-$root/target}/debug/outflow"
fi
if ! command -v schemathesis >/dev/null; then
  echo "schemathesis is not installed: python3 -m pip install -r $here/requirements.txt" >&2
  exit 1
fi
pg_url="${OUTFLOW_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

work="$(mktemp -d)"
db=""
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  if [ -n "$db" ]; then psql -q "$pg_url" -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/data"
args=(--data-dir "$work/data")
case "$backend" in
  sqlite) ;;
  postgres)
    db="outflow_st_$$"
    psql -q "$pg_url" -c "CREATE DATABASE $db" >/dev/null
    args+=(--database-url "${pg_url%/*}/$db")
    ;;
  *) echo "usage: $0 sqlite|postgres" >&2; exit 2 ;;
esac

# The fuzzer sends far more requests a minute than a client should: lift the rate limits
# (429 is still documented on every keyed route). Exports run on one worker to leave the
# cores to the server and the fuzzer.
export OUTFLOW_RATE_LIMIT_PER_MINUTE=100000000
export OUTFLOW_INGEST_RATE_LIMIT_PER_MINUTE=100000000
export OUTFLOW_LOG_LEVEL=warn
export OUTFLOW_EXPORTS__WORKERS=1
"$bin" "${args[@]}" demo --listen 127.0.0.1:0 >"$work/demo.out" 2>"$work/demo.err" &
pid=$!

field() { sed -n "s/^$1: //p" "$work/demo.out"; }
for _ in $(seq 1 240); do
  [ -n "$(field ingest_key)" ] && break
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "outflow demo exited:" >&2; cat "$work/demo.err" >&2; exit 1
  fi
  sleep 0.5
done
url="$(field url)"
[ -n "$url" ] || { echo "outflow demo did not start" >&2; cat "$work/demo.err" >&2; exit 1; }
export ORG_ID="$(field org_id)" USER_ID="$(field user_id)"
echo "schemathesis on $backend: $url (organization $ORG_ID)"

# One worker: the machine's cores go to the server, and CPython 3.11 can fail parsing
# hypothesis' lambdas from several threads at once ("AST constructor recursion depth mismatch").
run() { # $1: what, $2: key, rest: operation filters
  local what="$1" key="$2"
  shift 2
  echo "== $what"
  schemathesis --config-file "$here/schemathesis.toml" run "$url/v1/openapi.json" \
    --url "$url" \
    --checks all \
    --max-examples "${ST_MAX_EXAMPLES:-20}" \
    --max-time "${ST_MAX_TIME:-20}" \
    --request-timeout 20 \
    --workers 1 \
    --no-color \
    --header "Authorization: Bearer $key" \
    "$@"
}
status=0
# Organization-key routes: every operation but the ingest-key ones and the signed-link
# download (no key; a signature is not something to guess).
run "organization-key routes" "$(field api_key)" \
  --exclude-tag ingest --exclude-path-regex '^/v1/downloads/' || status=1
run "ingest-key routes" "$(field ingest_key)" --include-tag ingest || status=1
if grep -q "panicked" "$work/demo.err"; then
  echo "the server panicked:" >&2; grep -A5 panicked "$work/demo.err" >&2; status=1
fi
exit $status
