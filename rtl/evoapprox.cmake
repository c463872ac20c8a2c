# The EvoApprox slot: -DAXSA_EVOAPPROX_DIR=<folder> verilates every signed multiplier
# mul<N>s_<id>.v found below that folder and registers it under its module name. A whole library
# folder works: each circuit is taken once (the library repeats circuits across its pareto
# folders), and every file that cannot be used is skipped with one line saying why.
set(AXSA_EVOAPPROX_DIR "" CACHE PATH "Folder of EvoApprox multipliers (behavioural Verilog) to verilate into axsa")
if(AXSA_EVOAPPROX_DIR STREQUAL "")
  return()
endif()
if(NOT IS_DIRECTORY "${AXSA_EVOAPPROX_DIR}")
  message(FATAL_ERROR "AXSA_EVOAPPROX_DIR: '${AXSA_EVOAPPROX_DIR}' is not a directory")
endif()

# The scan itself (names, duplicates, module headers) is rtl/mult_scan.cpp; Verilator has the last word.
set(evo_taken "")
set(evo_duplicates 0)
set(evo_skipped 0)
function(axsa_evo_skipped rel why)
  message(STATUS "EvoApprox: skipped ${rel}: ${why}")
  math(EXPR n "${evo_skipped} + 1")
  set(evo_skipped ${n} PARENT_SCOPE)
endfunction()
function(axsa_evo_duplicate)
  math(EXPR n "${evo_duplicates} + 1")
  set(evo_duplicates ${n} PARENT_SCOPE)
endfunction()
function(axsa_evo_candidate base bits path rel)
  execute_process(COMMAND ${AXSA_VERILATOR_EXE} --lint-only -Wno-fatal -Wno-DECLFILENAME -Wno-UNUSEDSIGNAL
                          --top-module ${base} "${path}"
                  RESULT_VARIABLE lint_rc OUTPUT_QUIET ERROR_VARIABLE lint_err)
  if(NOT lint_rc EQUAL 0)
    string(REGEX MATCH "%Error[^\n]*" first_error "${lint_err}")
    axsa_evo_skipped("${rel}" "Verilator cannot build it: ${first_error}")
    set(evo_skipped ${evo_skipped} PARENT_SCOPE)
    return()
  endif()
  axsa_add_multiplier(${base} ${base} ${bits} "${path}" evoapprox)
  set(evo_taken ${evo_taken} ${base} PARENT_SCOPE)
endfunction()
axsa_mult_scan("AXSA_EVOAPPROX_DIR" ${CMAKE_CURRENT_BINARY_DIR}/evoapprox.cmake evoapprox "${AXSA_EVOAPPROX_DIR}")
list(LENGTH evo_taken evo_count)
message(STATUS "EvoApprox: ${evo_count} circuits registered from ${AXSA_EVOAPPROX_DIR} "
               "(${evo_duplicates} identical copies taken once, ${evo_skipped} files skipped)")
