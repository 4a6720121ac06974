#!/usr/bin/env bash
# Installs every package ember needs to build, test and serve, from Debian bookworm's archive only.
# Idempotent: packages already present are left alone and apt is not touched when nothing is missing.
# Runs as root, or through sudo when it is available.
set -euo pipefail

BUILD_PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libdnnl-dev libabsl-dev prometheus-cpp-dev
  # Debian builds oneDNN with the OpenCL GPU runtime, so its CMake config requires the OpenCL
  # headers and loader (only a Recommends of libdnnl-dev, which apt may skip).
  ocl-icd-opencl-dev
  nlohmann-json3-dev libsentencepiece-dev libpcre2-dev libicu-dev
  # server/http: the OpenAI-compatible HTTP API (cpp-httplib, built by Debian with OpenSSL).
  libcpp-httplib-dev
)
TEST_PACKAGES=(
  libgtest-dev libgmock-dev libbenchmark-dev
  # tests/chat_template_reference: Python's jinja2, what transformers renders chat templates with.
  python3-jinja2
  sentencepiece python3 python3-torch python3-numpy python3-grpcio python3-sentencepiece
  # python3-torch's BLAS: Debian's default reference BLAS multiplies ~20x slower than OpenBLAS,
  # which the f32 PyTorch references (tools/reference) and the training script lean on.
  libopenblas0-pthread
  # tests/quality and tools/train_default_model: the King James Bible (`bible`), the default
  # model's training and held-out text.
  bible-kjv
  curl
  # scripts/dev.sh test: the sanitizer stage takes its (uninstrumented) test objects from the cache.
  ccache
  # tests/deploy: a real Prometheus (and promtool), YAML parsing, Compose file validation.
  prometheus python3-yaml docker-compose
  # tests/server/server_security_test: certificates made at test time.
  openssl
  # fuzz/ (scripts/dev.sh test replays the corpora): clang, its libFuzzer and sanitizer runtimes,
  # and LLVM's OpenMP runtime (the kernels' OpenMP under clang).
  clang libclang-rt-dev libomp-dev
)

want=("${BUILD_PACKAGES[@]}")
if [[ "${1:-}" != "--build-only" ]]; then
  want+=("${TEST_PACKAGES[@]}")
  # The tokenizer reference tests run Node.js; the machine image may already carry a newer one.
  command -v node >/dev/null 2>&1 || want+=(nodejs)
  command -v npm >/dev/null 2>&1 || want+=(npm)
fi

missing=()
for pkg in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install_deps: all ${#want[@]} packages present"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null 2>&1 || { echo "install_deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
echo "install_deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
