# ember: multi-stage image on Debian bookworm.
#
#   docker build -t ember .                                  # build, run the test suite, pack
#   docker build --build-arg EMBER_RUN_TESTS=0 -t ember .    # skip the tests (faster rebuilds)
#   docker run -p 50051:50051 -p 8000:8000 -p 9090:9090 ember  # serves the embedded default model
#   docker run -v /models/x:/model:ro -e EMBER_MODEL_DIR=/model ember --max_running=16
#   docker stop -t 35 <container>                            # > --drain_grace_seconds (30 s)
#
# Configuration: the environment variables EMBER_MODEL_DIR, EMBER_GRPC_ADDRESS, EMBER_HTTP_ADDRESS
# (the OpenAI-compatible HTTP API; empty turns it off) and EMBER_METRICS_ADDRESS (below), and any
# server flag as an argument after the image name
# (README.md, "Server flags"); --flagfile=FILE reads flags from a file, one per line (the
# Kubernetes ConfigMap in deploy/kubernetes/ is mounted and read this way). Arguments come after
# the environment's flags, so they win.
#
# No Docker engine runs on the project's machines. tests/deploy checks what it can without one:
# every COPY source exists and is not excluded by .dockerignore, every /build path below is a
# build output, the runtime stage's packages provide every library ldd reports for the copied
# binaries, and ENTRYPOINT and HEALTHCHECK run as written against the built binaries laid out as
# in this image.

# --- build: the project's own dependency script, build, and tests -------------------------------
FROM debian:bookworm AS build
# 1 (default): also install the test packages and run the whole test suite before packing, so an
# image is only produced from a build that passes; 0: build only. The tokenizer-reference and
# deploy tests install pinned npm packages, so with tests on the build needs the npm registry.
ARG EMBER_RUN_TESTS=1
WORKDIR /src
# The dependency script alone first, so the package layer is cached across source changes.
COPY scripts/install_deps.sh scripts/install_deps.sh
RUN if [ "$EMBER_RUN_TESTS" = 1 ]; then bash scripts/install_deps.sh; \
    else bash scripts/install_deps.sh --build-only; fi
COPY . .
RUN tests=OFF; if [ "$EMBER_RUN_TESTS" = 1 ]; then tests=ON; fi \
 && cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DEMBER_BUILD_TESTS="$tests" \
      -DEMBER_BUILD_BENCH=OFF \
 && cmake --build /build -j"$(nproc)"
RUN if [ "$EMBER_RUN_TESTS" = 1 ]; then \
      ctest --test-dir /build --output-on-failure -j"$(nproc)" --timeout 900; \
    fi
RUN mkdir -p /out/bin /out/lib /out/models \
 && cp /build/server/ember_server /build/client/cli/ember_cli /out/bin/ \
 && cp /build/lib/libember_sentencepiece_shim.so /out/lib/ \
 && cp -r /build/models/kjv-llama /out/models/

# --- runtime: only the shared libraries the binaries need, non-root ------------------------------
FROM debian:bookworm-slim AS runtime
# The packages owning every library ldd reports for ember_server, ember_cli and the SentencePiece
# shim (their own dependencies, e.g. libgrpc29, libssl3, ocl-icd-libopencl1, come with them);
# tests/deploy/dockerfile_test.py holds this list to ldd. ca-certificates: `ember_cli --tls`
# without --tls_ca verifies servers against the system roots.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libabsl20220623 libcpp-httplib0.11 libdnnl2 libgomp1 libgrpc++1.51 libicu72 libpcre2-8-0 \
      libprometheus-cpp-core1.0 \
      libprometheus-cpp-pull1.0 libprotobuf32 libsentencepiece0 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 ember \
 && useradd --system --uid 10001 --gid ember --home-dir /nonexistent --shell /usr/sbin/nologin \
      ember
COPY --from=build /out/bin/ /usr/local/bin/
COPY --from=build /out/lib/ /usr/local/lib/
COPY --from=build /out/models/ /opt/ember/models/
ENV EMBER_MODEL_DIR=/opt/ember/models/kjv-llama \
    EMBER_GRPC_ADDRESS=0.0.0.0:50051 \
    EMBER_HTTP_ADDRESS=0.0.0.0:8000 \
    EMBER_METRICS_ADDRESS=0.0.0.0:9090 \
    EMBER_SENTENCEPIECE_SHIM=/usr/local/lib/libember_sentencepiece_shim.so
# Numeric, so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER 10001:10001
EXPOSE 50051 8000 9090
STOPSIGNAL SIGTERM
# Readiness of the whole server (grpc.health.v1, service ""): unhealthy while loading, draining or
# stalled. The port follows EMBER_GRPC_ADDRESS; Docker wants exit status 1 for unhealthy.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ember_cli health --target="127.0.0.1:${EMBER_GRPC_ADDRESS##*:}" --deadline=3 || exit 1
# exec: the server is PID 1 and receives SIGTERM itself (it drains, then exits 0). Arguments after
# the image name are appended: docker run ember --max_running=16
ENTRYPOINT ["/bin/sh", "-c", "exec ember_server --model_dir=\"$EMBER_MODEL_DIR\" --grpc_address=\"$EMBER_GRPC_ADDRESS\" --http_address=\"$EMBER_HTTP_ADDRESS\" --metrics_address=\"$EMBER_METRICS_ADDRESS\" \"$@\"", "ember_server"]
