# The npm CTest fixtures of tests/deploy (deploy_grpc_js: @grpc/grpc-js and @grpc/proto-loader;
# deploy_openai_sdk: the OpenAI SDK): installs the pinned packages from the committed
# package-lock.json into WORK_DIR (never into the source tree). Run as
#   cmake -DNODE=<node> -DNPM=<npm> -DSOURCE_DIR=<tests/deploy/node> -DWORK_DIR=<dir>
#         -P npm_ci.cmake
# Skipped when WORK_DIR/node_modules was installed from this exact lockfile, so a warm run takes
# well under a second. A missing node or npm, or a failing npm ci, is a FATAL_ERROR: the
# independent-client comparison must never be skipped quietly.
cmake_minimum_required(VERSION 3.25)

foreach(var NODE NPM SOURCE_DIR WORK_DIR)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "npm_ci.cmake: -D${var}=... is required")
  endif()
endforeach()
foreach(tool NODE NPM)
  if(NOT EXISTS "${${tool}}" OR IS_DIRECTORY "${${tool}}")
    message(FATAL_ERROR
      "npm_ci: '${${tool}}' is not an executable: Node.js and npm are required for the "
      "npm-based client tests (install them: apt-get install nodejs npm, or "
      "scripts/install_deps.sh), then re-run cmake.")
  endif()
endforeach()

file(MAKE_DIRECTORY "${WORK_DIR}")
file(COPY "${SOURCE_DIR}/package.json" "${SOURCE_DIR}/package-lock.json" DESTINATION "${WORK_DIR}")
file(SHA256 "${WORK_DIR}/package-lock.json" lock_hash)
set(install_stamp "${WORK_DIR}/node_modules/.ember-installed-lock-sha256")
set(installed_hash "")
if(EXISTS "${install_stamp}")
  file(READ "${install_stamp}" installed_hash)
endif()
if(installed_hash STREQUAL lock_hash)
  message(STATUS "npm_ci: ${WORK_DIR}/node_modules already matches package-lock.json")
  return()
endif()
message(STATUS "npm_ci: npm ci in ${WORK_DIR}")
execute_process(COMMAND "${NPM}" ci --no-audit --no-fund
                WORKING_DIRECTORY "${WORK_DIR}" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "npm_ci: 'npm ci' failed (${rc}) in ${WORK_DIR}")
endif()
file(WRITE "${install_stamp}" "${lock_hash}")
