#!/usr/bin/env bash
# scripts/check_layers.sh passes on the repository, and fails (naming the file) on a copy of the
# tree with one forbidden include planted in core/.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$root/scripts/check_layers.sh" "$root"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/core/engine" "$tmp/client"
printf '#include "grpcpp/server.h"\n' > "$tmp/core/engine/planted.h"
printf '#include "core/engine/engine.h"\n' > "$tmp/client/planted.cc"
if out=$(bash "$root/scripts/check_layers.sh" "$tmp"); then
  echo "FAIL: planted violations were not reported"
  exit 1
fi
grep -q "core/engine/planted.h" <<<"$out" || { echo "FAIL: $out"; exit 1; }
grep -q "client/planted.cc" <<<"$out" || { echo "FAIL: $out"; exit 1; }
echo "dependency_direction_test: ok"
