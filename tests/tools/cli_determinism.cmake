# Runs ember_make_model twice with the same flags in separate processes and requires identical
# files; then regenerates the default model and compares it with the one the build wrote.
# Variables: GENERATOR (the binary), WORK_DIR (scratch), DEFAULT_MODEL_DIR (build output).
set(files config.json generation_config.json model.safetensors tokenizer.json
          tokenizer_config.json special_tokens_map.json)
file(REMOVE_RECURSE ${WORK_DIR})

function(generate out)
  execute_process(COMMAND ${GENERATOR} ${ARGN} --out=${out} RESULT_VARIABLE rc OUTPUT_QUIET)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "ember_make_model ${ARGN} failed: ${rc}")
  endif()
endfunction()

function(expect_same a b)
  foreach(f ${files})
    execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${a}/${f} ${b}/${f}
                    RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "${a}/${f} and ${b}/${f} differ")
    endif()
  endforeach()
endfunction()

foreach(preset tiny-gpt2 tiny-qwen2)
  generate(${WORK_DIR}/${preset}-1 --preset=${preset} --seed=99 --dtype=bf16)
  generate(${WORK_DIR}/${preset}-2 --preset=${preset} --seed=99 --dtype=bf16)
  expect_same(${WORK_DIR}/${preset}-1 ${WORK_DIR}/${preset}-2)
endforeach()

# Must match the flags of the ember_tiny_model command in tools/CMakeLists.txt.
if(EXISTS ${DEFAULT_MODEL_DIR}/config.json)
  generate(${WORK_DIR}/default --preset=tiny-llama --seed=20240521)
  expect_same(${WORK_DIR}/default ${DEFAULT_MODEL_DIR})
endif()
file(REMOVE_RECURSE ${WORK_DIR})
