# The RTL twin of the array (rtl/array/axsa_array.v): verilated for the configurations listed in
# AXSA_RTL_CONFIGS, each as its own model (own prefix) with a pimpl wrapper generated from
# rtl/array/array_wrapper.cpp.in, and a generated registry of the configurations built
# (docs/rtl.md). Included at the end of rtl/CMakeLists.txt, so that the verilated code joins
# axsa_rtl_models (one copy of Verilator's runtime) and the multiplier registry is complete.
#
# A configuration is "RxCxW[xA]:multiplier": R x C PEs, W-bit data, A-bit accumulators (default
# 32) and a registered multiplier (rtl/mult/multipliers.txt, or EvoApprox) with N >= W operand bits.
# Verilating and compiling 28x28x8:exact8 takes about a minute of one core (docs/rtl.md).
set(AXSA_RTL_CONFIGS "1x1x8:exact8;4x4x8:exact8;8x8x8:drum8_k4;4x4x16:exact16;3x5x6x14:bam8_h1_v4;4x4x8:drum12_k6;28x28x8:exact8"
    CACHE STRING "RTL array configurations to verilate, RxCxW[xA]:multiplier, ';'-separated")

# The multiplier registry rows (rtl/CMakeLists.txt): name -> module, N, parameters, origin, source.
get_property(array_mult_rows GLOBAL PROPERTY AXSA_MULT_ROWS)
set(array_row_re "{\"([^\"]+)\", \"([^\"]+)\", ([0-9]+), \"([^\"]*)\", \"([^\"]+)\", \"([^\"]+)\"")
string(REGEX MATCHALL "${array_row_re}" array_mult_matches "${array_mult_rows}")
set(array_known_mults "")
foreach(m IN LISTS array_mult_matches)
  string(REGEX MATCH "${array_row_re}" _ "${m}")
  set(mname ${CMAKE_MATCH_1})
  list(APPEND array_known_mults ${mname})
  set(array_mult_module_${mname} ${CMAKE_MATCH_2})
  set(array_mult_bits_${mname} ${CMAKE_MATCH_3})
  set(array_mult_params_${mname} "${CMAKE_MATCH_4}")
  set(array_mult_origin_${mname} ${CMAKE_MATCH_5})
  set(array_mult_source_${mname} ${CMAKE_MATCH_6})
endforeach()
if(array_known_mults STREQUAL "")
  message(FATAL_ERROR "rtl/array/array.cmake: found no multiplier in the registry rows of rtl/CMakeLists.txt")
endif()

set(array_decls "")
set(array_rows "")
set(array_names "")
foreach(cfg IN LISTS AXSA_RTL_CONFIGS)
  string(STRIP "${cfg}" cfg)
  if(cfg STREQUAL "")
    continue()
  endif()
  if(NOT cfg MATCHES "^([0-9]+)x([0-9]+)x([0-9]+)(x([0-9]+))?:([A-Za-z0-9_]+)$")
    message(FATAL_ERROR "AXSA_RTL_CONFIGS: '${cfg}' is not RxCxW[xA]:multiplier (e.g. 4x4x8:exact8)")
  endif()
  set(r ${CMAKE_MATCH_1})
  set(c ${CMAKE_MATCH_2})
  set(w ${CMAKE_MATCH_3})
  set(a 32)
  if(NOT "${CMAKE_MATCH_5}" STREQUAL "")
    set(a ${CMAKE_MATCH_5})
  endif()
  set(mult ${CMAKE_MATCH_6})
  if(r LESS 1 OR r GREATER 128 OR c LESS 1 OR c GREATER 128)
    message(FATAL_ERROR "AXSA_RTL_CONFIGS: '${cfg}': rows and columns must be 1..128")
  endif()
  if(w LESS 2 OR w GREATER 16)
    message(FATAL_ERROR "AXSA_RTL_CONFIGS: '${cfg}': data width must be 2..16")
  endif()
  if(a LESS 2 OR a GREATER 64)
    message(FATAL_ERROR "AXSA_RTL_CONFIGS: '${cfg}': accumulator width must be 2..64")
  endif()
  if(NOT mult IN_LIST array_known_mults)
    string(REPLACE ";" ", " known "${array_known_mults}")
    message(FATAL_ERROR "AXSA_RTL_CONFIGS: '${cfg}': unknown multiplier '${mult}' (registered: ${known})")
  endif()
  set(n ${array_mult_bits_${mult}})
  if(n LESS w)
    message(FATAL_ERROR "AXSA_RTL_CONFIGS: '${cfg}': ${mult} has ${n}-bit operands, narrower than the ${w}-bit data")
  endif()
  set(name array_${r}x${c}x${w}_a${a}_${mult})
  if(name IN_LIST array_names)
    message(FATAL_ERROR "AXSA_RTL_CONFIGS: '${cfg}' is listed twice")
  endif()
  list(APPEND array_names ${name})

  # The multiplier's module and parameter list reach axsa_pe.v through two defines.
  if(array_mult_origin_${mult} STREQUAL "axsa")
    set(mult_params "#(.N(N)")
    string(REGEX REPLACE "[ \t]+" ";" plist "${array_mult_params_${mult}}")
    foreach(p IN LISTS plist)
      if(p MATCHES "^([A-Za-z_][A-Za-z0-9_]*)=(.+)$")
        string(APPEND mult_params ",.${CMAKE_MATCH_1}(${CMAKE_MATCH_2})")
      endif()
    endforeach()
    string(APPEND mult_params ")")
    set(extra_lint "")
  else()
    set(mult_params "")  # EvoApprox circuits have a fixed width and no parameters
    set(extra_lint -Wno-DECLFILENAME -Wno-UNUSEDSIGNAL)
  endif()
  verilate(axsa_rtl_models
    SOURCES ${PROJECT_SOURCE_DIR}/rtl/array/axsa_array.v ${PROJECT_SOURCE_DIR}/rtl/array/axsa_pe.v
            ${array_mult_source_${mult}}
    PREFIX V${name}
    TOP_MODULE axsa_array
    DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/verilated/${name}
    VERILATOR_ARGS -O3 -Wno-fatal ${extra_lint} --x-assign fast --x-initial fast
                   -GR=${r} -GC=${c} -GW=${w} -GA=${a} -GN=${n}
                   -DAXSA_MULT_MODULE=${array_mult_module_${mult}} "-DAXSA_MULT_PARAMS=${mult_params}"
    OPT_FAST -O2
    OPT_SLOW -O1)
  set(AXSA_ARRAY_NAME ${name})
  set(AXSA_ARRAY_R ${r})
  set(AXSA_ARRAY_C ${c})
  set(AXSA_ARRAY_W ${w})
  set(AXSA_ARRAY_A ${a})
  configure_file(${PROJECT_SOURCE_DIR}/rtl/array/array_wrapper.cpp.in
                 ${CMAKE_CURRENT_BINARY_DIR}/wrappers/${name}.cpp @ONLY)
  target_sources(axsa_rtl_models PRIVATE ${CMAKE_CURRENT_BINARY_DIR}/wrappers/${name}.cpp)
  string(APPEND array_decls "std::unique_ptr<rtl_array> make_${name}();\n")
  string(APPEND array_rows
    "      {\"${r}x${c}x${w}x${a}:${mult}\", ${r}, ${c}, ${w}, ${a}, \"${mult}\", \"${array_mult_module_${mult}}\", ${n}, &make_${name}},\n")
endforeach()
string(REPLACE ";" ", " array_summary "${AXSA_RTL_CONFIGS}")
message(STATUS "RTL array configurations: ${array_summary}")

set(AXSA_ARRAY_DECLS "${array_decls}")
set(AXSA_ARRAY_ROWS "${array_rows}")
file(CONFIGURE OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/array_registry_table.cpp CONTENT [=[
// Generated by rtl/array/array.cmake: every RTL array configuration verilated into this build
// (cache variable AXSA_RTL_CONFIGS).
#include "rtl/array/rtl_array.h"

namespace axsa::rtl {

@AXSA_ARRAY_DECLS@
const std::vector<array_entry>& built_arrays() {
  static const std::vector<array_entry> entries = {
@AXSA_ARRAY_ROWS@  };
  return entries;
}

}  // namespace axsa::rtl
]=] @ONLY)

# The controller (rtl/array/axsa_ctrl.v): one design for every configuration, verilated once.
verilate(axsa_rtl_models
  SOURCES ${PROJECT_SOURCE_DIR}/rtl/array/axsa_ctrl.v
  PREFIX Vaxsa_ctrl
  TOP_MODULE axsa_ctrl
  DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/verilated/axsa_ctrl
  VERILATOR_ARGS -Wno-fatal --x-assign fast --x-initial fast
  OPT_FAST -O2)
target_sources(axsa_rtl_models PRIVATE ${PROJECT_SOURCE_DIR}/rtl/array/controller_wrapper.cpp)

# Our side: the registry lookups, the feed schedule and the lockstep driver (with warnings).
add_library(axsa_rtl_array STATIC
  ${PROJECT_SOURCE_DIR}/rtl/array/rtl_array.cpp
  ${PROJECT_SOURCE_DIR}/rtl/array/fault_masks.cpp
  ${PROJECT_SOURCE_DIR}/rtl/array/feed_schedule.cpp
  ${PROJECT_SOURCE_DIR}/rtl/array/trace_window.cpp
  ${PROJECT_SOURCE_DIR}/rtl/array/lockstep.cpp
  ${CMAKE_CURRENT_BINARY_DIR}/array_registry_table.cpp
)
target_include_directories(axsa_rtl_array PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(axsa_rtl_array PUBLIC axsa_rtl axsa_hw axsa_rtl_models PRIVATE axsa_warnings)

# The sources of an on-demand build (rtl/array/array_cache.h), embedded as they are now. file(WRITE),
# not file(CONFIGURE): the wrapper template's @...@ placeholders must survive for the run-time build.
set(embed_text "// Generated by rtl/array/array.cmake: the sources an on-demand RTL array build uses.\n")
string(APPEND embed_text "#include \"rtl/array/array_sources.h\"\n\nnamespace axsa::rtl {\n\n")
string(APPEND embed_text "const std::vector<std::pair<std::string, std::string>>& embedded_array_sources() {\n")
string(APPEND embed_text "  static const std::vector<std::pair<std::string, std::string>> files = {\n")
set(embed_hash_input "")
foreach(embed_file axsa_array.v axsa_pe.v array_wrapper.cpp.in rtl_array.h)
  set(embed_path ${PROJECT_SOURCE_DIR}/rtl/array/${embed_file})
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${embed_path})
  file(READ ${embed_path} embed_content)
  file(SHA256 ${embed_path} embed_sha)
  string(APPEND embed_hash_input "${embed_file}:${embed_sha}|")
  string(APPEND embed_text "      {\"${embed_file}\", R\"axsa_embedded(${embed_content})axsa_embedded\"},\n")
endforeach()
string(SHA256 embed_hash "${embed_hash_input}")
string(APPEND embed_text "  };\n  return files;\n}\n\n")
string(APPEND embed_text "const char* embedded_array_sources_hash() { return \"${embed_hash}\"; }\n\n}  // namespace axsa::rtl\n")
set(embed_out ${CMAKE_CURRENT_BINARY_DIR}/array_sources_text.cpp)
# Rewritten only when it changes, so a reconfigure does not rebuild it.
if(EXISTS ${embed_out})
  file(READ ${embed_out} embed_old)
else()
  set(embed_old "")
endif()
if(NOT embed_old STREQUAL embed_text)
  file(WRITE ${embed_out} "${embed_text}")
endif()
target_sources(axsa_rtl_array PRIVATE ${embed_out} ${PROJECT_SOURCE_DIR}/rtl/array/array_cache.cpp)
target_compile_definitions(axsa_rtl_array PRIVATE
  AXSA_VERILATOR_EXE="${AXSA_VERILATOR_EXE}" AXSA_CXX_COMPILER="${CMAKE_CXX_COMPILER}")
target_link_libraries(axsa_rtl_array PRIVATE ${CMAKE_DL_LIBS})
