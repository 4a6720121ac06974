#!/usr/bin/env bash
# Soak test: starts ember_server on the build's tiny random test model (tiny-llama), runs
# ember_soak against it, then stops the server with SIGTERM and checks that it exits 0.
#
#   scripts/soak.sh <build-dir> <duration-seconds> [clients]
#
#   scripts/soak.sh build/release 1800 16     # the 30-minute soak
#
# The server listens on loopback ports chosen by the kernel (read back from its "ready" log line),
# so several soaks and other servers can run on one machine. Environment:
#   EMBER_SOAK_SERVER_ARGS  extra ember_server flags (e.g. "--threads=1 --max_running=16")
#   EMBER_SOAK_ARGS         extra ember_soak flags (e.g. "--csv=/tmp/soak.csv --mix=normal=1")
#   EMBER_SOAK_MODEL_DIR    the model to serve (default: <build-dir>/models/tiny-llama)
#   EMBER_SOAK_KEEP_LOG     a path: keep the server's log there
# Exit status: 0 when ember_soak passed every check and the server exited 0 on SIGTERM; 1
# otherwise (the server's log tail is printed); 2 for a usage error.
set -euo pipefail

if [[ $# -lt 2 || $# -gt 3 ]]; then
  echo "usage: scripts/soak.sh <build-dir> <duration-seconds> [clients]" >&2
  exit 2
fi
build=$(cd "$1" && pwd)
duration=$2
clients=${3:-8}
server=$build/server/ember_server
soak=$build/tools/soak/ember_soak
cli=$build/client/cli/ember_cli
model=${EMBER_SOAK_MODEL_DIR:-$build/models/tiny-llama}
for file in "$server" "$soak" "$cli"; do
  [[ -x $file ]] || { echo "soak.sh: $file is missing (build it first)" >&2; exit 2; }
done
[[ -f $model/config.json ]] || { echo "soak.sh: no model in $model" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/ember-soak.XXXXXX")
log=$work/server.log
report=$work/soak_report.txt
stacks=$work/server_stacks.txt
server_pid=
cleanup() {
  # Only the server this script started, by its pid.
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [[ -n ${EMBER_SOAK_KEEP_LOG:-} && -f $log ]]; then cp "$log" "$EMBER_SOAK_KEEP_LOG"; fi
  rm -rf "$work"
}
trap cleanup EXIT

# True while the process runs: an exited child stays a zombie until `wait`, and kill -0 still
# succeeds on a zombie.
alive() {
  [[ -r /proc/$1/status ]] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

# The verdict comes first, in a few lines, so a CI system that keeps only the head of a failing
# test's output still shows why: the reason, the checks ember_soak failed, the server log's
# sanitizer lines; then ember_soak's whole report and the server log's tail.
fail() {
  echo "soak.sh: FAIL: $*" >&2
  if [[ -f $report ]]; then
    grep -E '^  FAIL |^RESULT:' "$report" >&2 || true
  fi
  if [[ -f $log ]]; then
    # A sanitizer's report: its first 24 lines (the error and the top of its first stack).
    grep -E -m1 -A24 'ERROR: (Address|Leak|Thread)Sanitizer|runtime error:' "$log" >&2 || true
  fi
  if [[ -f $report ]]; then
    echo "---- ember_soak report ----" >&2
    cat "$report" >&2
  fi
  if [[ -f $log ]]; then
    echo "---- last 60 lines of the server log ----" >&2
    tail -n 60 "$log" >&2
  fi
  if [[ -s $stacks ]]; then
    echo "---- ember_server threads (gdb) ----" >&2
    cat "$stacks" >&2
  fi
  exit 1
}

# shellcheck disable=SC2086  # the extra arguments are meant to split into flags
"$server" --model_dir="$model" --grpc_address=127.0.0.1:0 --http_address= --metrics_address=127.0.0.1:0 \
  ${EMBER_SOAK_SERVER_ARGS:-} 2>"$log" &
server_pid=$!

# "ready: gRPC port N, metrics port M" is logged once the model is loaded and warmed up.
grpc_port=
for _ in $(seq 1 1200); do
  if ready=$(grep -s -m1 'ready: gRPC port ' "$log"); then
    grpc_port=$(sed -E 's/.*gRPC port ([0-9]+).*/\1/' <<<"$ready")
    metrics_port=$(sed -E 's/.*metrics port ([0-9]+).*/\1/' <<<"$ready")
    break
  fi
  alive "$server_pid" || fail "ember_server exited during start-up"
  sleep 0.1
done
[[ -n $grpc_port ]] || fail "ember_server not ready after 120 s"
address=127.0.0.1:$grpc_port
for _ in $(seq 1 100); do
  "$cli" health --target="$address" >/dev/null 2>&1 && break
  sleep 0.1
done
"$cli" health --target="$address" >/dev/null || fail "ember_server at $address is not SERVING"
echo "soak.sh: ember_server pid $server_pid on $address, metrics on 127.0.0.1:$metrics_port"

soak_rc=0
# shellcheck disable=SC2086
"$soak" --address="$address" --metrics_url="127.0.0.1:$metrics_port" --server_pid="$server_pid" \
  --clients="$clients" --duration_seconds="$duration" ${EMBER_SOAK_ARGS:-} >"$report" || soak_rc=$?

# SIGTERM: the server drains (nothing is in flight any more) and must exit 0, well within its
# default 30 s drain grace.
if ! alive "$server_pid"; then
  server_rc=0
  wait "$server_pid" || server_rc=$?
  server_pid=
  fail "ember_server died during the soak (exit status $server_rc); ember_soak exit status $soak_rc"
fi
kill -TERM "$server_pid"
for _ in $(seq 1 600); do
  alive "$server_pid" || break
  sleep 0.1
done
if alive "$server_pid"; then
  # Where it hangs, for the report: every thread's stack (when gdb is installed and allowed to
  # attach; nothing otherwise).
  if command -v gdb >/dev/null 2>&1; then
    timeout 60 gdb -p "$server_pid" -batch -ex "thread apply all bt 20" 2>&1 |
      grep -E '^(Thread|#)' | head -n 400 >"$stacks" || true
  fi
  fail "ember_server still running 60 s after SIGTERM"  # the EXIT trap kills it
fi
server_rc=0
wait "$server_pid" || server_rc=$?
server_pid=
if [[ $server_rc -ne 0 ]]; then
  fail "ember_server exited with status $server_rc after SIGTERM (expected 0)"
fi
grep -q 'shutdown complete' "$log" || fail "ember_server exited without logging 'shutdown complete'"
if [[ $soak_rc -ne 0 ]]; then
  fail "ember_soak failed (exit status $soak_rc)"
fi
cat "$report"
echo "soak.sh: ember_server exited 0 after SIGTERM"
echo "soak.sh: PASS"
