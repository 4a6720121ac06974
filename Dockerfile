# ember: multi-stage image on Debian bookworm.
#   docker build -t ember .
#   docker run -p 50051:50051 -p 9090:9090 ember                       # the embedded tiny model
#   docker run -v /models/x:/model -e EMBER_MODEL_DIR=/model ... ember  # a real model
# Not yet exercised by an engine on this project's machines (no Docker engine there); the
# deployment issue adds the checks that can run without one.

# --- build: the project's own dependency script, build, and tests -------------------------------
FROM debian:bookworm AS build
WORKDIR /src
COPY scripts/install_deps.sh scripts/install_deps.sh
RUN bash scripts/install_deps.sh --build-only
COPY . .
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DEMBER_BUILD_TESTS=OFF \
      -DEMBER_BUILD_BENCH=OFF \
 && cmake --build /build -j"$(nproc)" \
 && mkdir -p /out/bin /out/lib /out/models \
 && cp /build/server/ember_server /build/client/cli/ember_cli /out/bin/ \
 && cp /build/lib/libember_sentencepiece_shim.so /out/lib/ \
 && cp -r /build/models/tiny-llama /out/models/

# --- runtime: only the shared libraries the binaries need, non-root ------------------------------
FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libgrpc++1.51 libprotobuf32 libdnnl2 libgomp1 libprometheus-cpp-core1.0 \
      libprometheus-cpp-pull1.0 libpcre2-8-0 libsentencepiece0 \
      libabsl20220623 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home /nonexistent --shell /usr/sbin/nologin ember
COPY --from=build /out/bin/ /usr/local/bin/
COPY --from=build /out/lib/ /usr/local/lib/
COPY --from=build /out/models/ /opt/ember/models/
ENV EMBER_MODEL_DIR=/opt/ember/models/tiny-llama \
    EMBER_GRPC_ADDRESS=0.0.0.0:50051 \
    EMBER_METRICS_ADDRESS=0.0.0.0:9090 \
    EMBER_SENTENCEPIECE_SHIM=/usr/local/lib/libember_sentencepiece_shim.so
USER ember
EXPOSE 50051 9090
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD ["ember_cli", "health", "--target=127.0.0.1:50051", "--deadline=2"]
# Extra server flags go after the image name: docker run ember --max_running=16
ENTRYPOINT ["/bin/sh", "-c", "exec ember_server --model_dir=\"$EMBER_MODEL_DIR\" --grpc_address=\"$EMBER_GRPC_ADDRESS\" --metrics_address=\"$EMBER_METRICS_ADDRESS\" \"$@\"", "ember_server"]
