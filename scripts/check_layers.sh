#!/usr/bin/env bash
# The dependency direction of docs/ARCHITECTURE.md, checked on the sources: the system headers of
# gRPC, protobuf, Prometheus and oneDNN all sit in /usr/include, so the compiler alone would
# accept a forbidden include. Exit 1 listing every violation; 0 when the layers hold.
#   core/     never includes gRPC, protobuf, Prometheus, the generated API, server/ or client/
#   oneDNN    only inside core/kernels/onednn/
#   server/   reaches the engine only through core/engine's public headers (never the scheduler,
#             sequences, block allocator or beam search, nor core/model, kernels, tensor)
#   client/   depends only on the proto library: never core/ or server/
# Usage: scripts/check_layers.sh [repository root]
set -uo pipefail
root=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
cd "$root" || exit 2
status=0
check() {  # description, directory, extended regex of forbidden includes, [path regex to exempt]
  local what=$1 dir=$2 pattern=$3 exempt=${4:-}
  [[ -d $dir ]] || return 0
  local hits
  hits=$(grep -rnE --include='*.h' --include='*.cc' "^[[:space:]]*#[[:space:]]*include[[:space:]]*[<\"]($pattern)" "$dir" |
    { if [[ -n $exempt ]]; then grep -vE "$exempt"; else cat; fi; })
  if [[ -n $hits ]]; then
    echo "check_layers: $what:"
    echo "$hits" | sed 's/^/  /'
    status=1
  fi
}
check "core/ includes gRPC, protobuf, Prometheus or an outer layer" core \
  'grpc/|grpcpp/|grpc\+\+/|google/protobuf/|prometheus/|ember/v1/|server/|client/|tests/|bench/|tools/'
check "oneDNN included outside core/kernels/onednn/" core 'oneapi/dnnl/|dnnl\.hpp|dnnl\.h' \
  '^core/kernels/onednn/'
check "oneDNN included outside core/" server 'oneapi/dnnl/|dnnl\.hpp|dnnl\.h'
check "server/ reaches past core/engine's public headers" server \
  'core/model/|core/kernels/|core/tensor/|core/engine/(scheduler|sequence|block_allocator|beam_search)'
check "client/ includes core/ or server/" client 'core/|server/'
[[ $status -eq 0 ]] && echo "check_layers: the dependency direction holds"
exit $status
