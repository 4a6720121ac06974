#!/usr/bin/env bash
# Generates the Python gRPC stubs of ember's API into OUT_DIR (ember/v1/generation_pb2*.py), with
# Debian's protoc and grpc_python_plugin (packages protobuf-compiler, protobuf-compiler-grpc); they
# match Debian's python3-grpcio and python3-protobuf.
#   deploy/examples/python/make_stubs.sh /tmp/ember_stubs
#   PYTHONPATH=/tmp/ember_stubs /usr/bin/python3 deploy/examples/python/ember_generate.py --help
set -euo pipefail

out=${1:?usage: make_stubs.sh OUT_DIR}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
plugin=$(command -v grpc_python_plugin) || {
  echo "make_stubs.sh: grpc_python_plugin not found (apt-get install protobuf-compiler-grpc)" >&2
  exit 1
}
command -v protoc >/dev/null || {
  echo "make_stubs.sh: protoc not found (apt-get install protobuf-compiler)" >&2
  exit 1
}
mkdir -p "$out"
protoc --proto_path="$root/proto" --python_out="$out" --grpc_python_out="$out" \
  --plugin=protoc-gen-grpc_python="$plugin" "$root/proto/ember/v1/generation.proto"
