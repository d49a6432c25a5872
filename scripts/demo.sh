#!/usr/bin/env bash
# The README's "run it" command (npm run demo): builds everything, starts the
# collector on its embedded default (OTLP JSON lines to a file), starts the
# example instrumented HTTP service under a little load, kills the service
# with SIGKILL right after the last response, and shows that its last spans
# and logs still came out of the file. Exits non-zero if they did not.
set -euo pipefail
cd "$(dirname "$0")/.."
REQUESTS="${DEMO_REQUESTS:-300}"

if [[ "${DEMO_SKIP_BUILD:-}" != "1" ]]; then
  echo "== building (native binding + TypeScript packages)"
  bash scripts/pnpm.sh install --frozen-lockfile >/dev/null
  bash scripts/pnpm.sh run build >/dev/null
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/otlp-mmap-demo.XXXXXX")"
file="$work/app.otlp-mmap"
out="$work/otlp.jsonl"
collector_pid=""
service_pid=""
cleanup() {
  [[ -n "$service_pid" ]] && kill -9 "$service_pid" 2>/dev/null || true
  [[ -n "$collector_pid" ]] && kill "$collector_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "== starting the collector: --input $file --output $out"
node packages/collector --input "$file" --output "$out" --batch-timeout 200 --metric-interval 1000 \
  --stats --stats-interval 2000 2>"$work/collector.log" &
collector_pid=$!

echo "== starting the example service (examples/http-service/server.mjs)"
SDK_MMAP_EXPORTER_FILE="$file" OTEL_METRIC_EXPORT_INTERVAL=1000 \
  node examples/http-service/server.mjs "$work/port" >"$work/service.log" 2>&1 &
service_pid=$!
for _ in $(seq 1 100); do [[ -s "$work/port" ]] && break; sleep 0.1; done
[[ -s "$work/port" ]] || { echo "the service did not start:"; cat "$work/service.log"; exit 1; }
port="$(cat "$work/port")"

echo "== $REQUESTS requests to 127.0.0.1:$port"
node examples/http-service/load.mjs "$port" "$REQUESTS" 4

echo "== kill -9 the service (no shutdown, no flush: only what is in the file survives)"
kill -9 "$service_pid"
wait "$service_pid" 2>/dev/null || true
service_pid=""

echo "== waiting for the collector to export what the service left in the file"
ok=1
for _ in $(seq 1 50); do
  if node examples/http-service/check-output.mjs "$out" "$REQUESTS" >/dev/null 2>&1; then ok=0; break; fi
  sleep 0.2
done

kill -TERM "$collector_pid"
wait "$collector_pid" || true
collector_pid=""
echo "== collector log"
sed 's/^/   /' "$work/collector.log"
echo "== result"
node examples/http-service/check-output.mjs "$out" "$REQUESTS" || ok=1
echo "== a span and a log record of the last request, as exported:"
grep -o "\"name\":\"compute\"[^{]*{[^}]*\"stringValue\":\"$REQUESTS\"" "$out" | head -1 | cut -c1-160 || true
grep -o "\"body\":{\"stringValue\":\"handled request $REQUESTS\"}" "$out" | head -1 || true
exit "$ok"
