# Every dependency comes from Debian bookworm packages (scripts/install_deps.sh installs them).
# Nothing is fetched at configure or build time.
find_package(Threads REQUIRED)
find_package(absl REQUIRED)
find_package(dnnl REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)
pkg_check_modules(SENTENCEPIECE REQUIRED IMPORTED_TARGET sentencepiece)
# ICU: the Unicode normalization forms of tokenizer.json normalizers (NFC for Qwen2).
pkg_check_modules(ICU REQUIRED IMPORTED_TARGET icu-uc)
# server/http: cpp-httplib. Its pkg-config cflags (-DCPPHTTPLIB_OPENSSL_SUPPORT ...) must be used:
# they change the library's class layouts.
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
# The HTTP API finds a TLS connection's socket through OpenSSL (SSL_get_fd).
find_package(OpenSSL REQUIRED)
if(EMBER_BUILD_TESTS)
  find_package(GTest REQUIRED)
  include(GoogleTest)
endif()
# Serving: gRPC + protobuf for server/ and client/, prometheus-cpp for server/ metrics.
find_package(Protobuf REQUIRED)
find_package(gRPC CONFIG REQUIRED)
find_package(prometheus-cpp CONFIG REQUIRED)
