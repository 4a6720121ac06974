# Helpers that give every ember target the same compile settings.

set(EMBER_WARNING_FLAGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align
    -Wunused -Woverloaded-virtual -Wnull-dereference -Wimplicit-fallthrough)
# clang reports every `#pragma omp simd` loop it does not vectorize (-Wpass-failed): any loop whose
# body carries UBSan's checks, and floating-point max reductions, which clang 14 vectorizes only
# under -ffinite-math-only. The pragma is a hint for the production (GCC) build, not a defect.
if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  list(APPEND EMBER_WARNING_FLAGS -Wno-pass-failed)
endif()

# ember_apply_settings(target): warnings (errors when EMBER_WERROR), includes relative to the repo root.
function(ember_apply_settings target)
  get_target_property(type ${target} TYPE)
  if(type STREQUAL "INTERFACE_LIBRARY")
    target_include_directories(${target} INTERFACE ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR})
    return()
  endif()
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR})
  target_compile_options(${target} PRIVATE ${EMBER_WARNING_FLAGS})
  if(EMBER_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# ember_library(NAME name SRCS ... DEPS ... [PRIVATE_DEPS ...]): one library target per module.
# DEPS are PUBLIC (appear in the module's headers); PRIVATE_DEPS stay inside the module, so a module
# that does not list a dependency cannot link against it.
function(ember_library)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(${ARG_NAME} STATIC ${ARG_SRCS})
  ember_apply_settings(${ARG_NAME})
  target_link_libraries(${ARG_NAME} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
endfunction()

# Test code itself is not what a release build measures: it compiles at -O1, in about 2/3 of the
# time -O3 takes (the libraries under test keep the build type's flags).
function(ember_test_code_settings target)
  if(CMAKE_BUILD_TYPE STREQUAL "Release")
    target_compile_options(${target} PRIVATE -O1)
  endif()
endfunction()

# ember_test(NAME name SRCS ... DEPS ...): a GoogleTest executable registered with CTest.
function(ember_test)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS;LABELS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  ember_apply_settings(${ARG_NAME})
  ember_test_code_settings(${ARG_NAME})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  if(EMBER_SANITIZE MATCHES "thread")
    # Debian's abseil is not TSan-instrumented: teach TSan absl::Mutex's happens-before edges.
    target_sources(${ARG_NAME} PRIVATE ${PROJECT_SOURCE_DIR}/tests/tsan/absl_mutex_annotations.cc)
    target_link_libraries(${ARG_NAME} PRIVATE ${CMAKE_DL_LIBS} absl::synchronization)
  endif()
  # PROPERTIES is flattened into name/value pairs, so every value must be a single list element:
  # one ENVIRONMENT variable (the build directory is compiled into tests/test_util instead), and
  # LABELS only when given.
  set(properties ENVIRONMENT "EMBER_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
  if(ARG_LABELS)
    list(APPEND properties LABELS ${ARG_LABELS})
  endif()
  gtest_discover_tests(${ARG_NAME}
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    PROPERTIES ${properties}
    DISCOVERY_TIMEOUT 60)
endfunction()
