#!/usr/bin/env bash
# The REST API against its own OpenAPI document: the document validated against the OpenAPI
# 3.1 schema (openapi-spec-validator, from PyPI), then property-based fuzzing (schemathesis,
# from PyPI) of a fresh `lienthong serve` on SQLite, one run per kind of caller
# (administrator, portal, agency system), failing on any server error (5xx).
#
#   tests/fuzz/run.sh [path/to/lienthong] [examples per operation]
set -euo pipefail
bin=${1:-target/release/lienthong}
examples=${2:-30}
command -v schemathesis >/dev/null 2>&1 || python3 -m pip install -q schemathesis
command -v openapi-spec-validator >/dev/null 2>&1 || python3 -m pip install -q openapi-spec-validator
dir=$(mktemp -d)
db="sqlite:$dir/fuzz.db"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
admin=$("$bin" key create --role admin --label fuzz-admin --database-url "$db" 2>/dev/null)
portal=$("$bin" key create --role portal --label fuzz-portal --database-url "$db" 2>/dev/null)
agency=$("$bin" key create --role agency_system --agency civil_status --label fuzz-agency --database-url "$db" 2>/dev/null)
LIENTHONG_SECURE_COOKIES=false LIENTHONG_LIMITS__RATE_PER_S=100000 LIENTHONG_LIMITS__BURST=100000 \
  RUST_LOG=warn "$bin" serve --database-url "$db" --bind "127.0.0.1:$port" > "$dir/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do
  curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.2
done
status=0
curl -fsS "http://127.0.0.1:$port/openapi.json" > "$dir/openapi.json"
echo "--- validating the OpenAPI document"
openapi-spec-validator --schema 3.1 "$dir/openapi.json" || status=1
for who in admin portal agency; do
  echo "--- fuzzing as $who"
  schemathesis run "http://127.0.0.1:$port/openapi.json" \
    --checks not_a_server_error \
    --header "Authorization: Bearer ${!who}" \
    --max-examples "$examples" \
    --phases examples,coverage,fuzzing \
    --seed 1 \
    --no-color || status=1
done
if grep -q '"level":"ERROR"' "$dir/serve.log"; then
  echo "the server logged errors:" >&2
  grep '"level":"ERROR"' "$dir/serve.log" | head -20 >&2
  status=1
fi
exit $status
