# cmake --install: libaxsa_hw.a and libaxsa_tlm.a, their headers under include/axsa (includes stay
# rooted as in the tree: #include "tlm/accelerator.h"), and the CMake package axsa with the
# targets axsa::hw, axsa::tlm and axsa::systemc (SystemC and TLM, found again through pkg-config by
# the consumer). Nothing in the installed files refers to the source or build tree.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set_target_properties(axsa_hw PROPERTIES EXPORT_NAME hw)
set_target_properties(axsa_tlm PROPERTIES EXPORT_NAME tlm)
set_target_properties(axsa_systemc PROPERTIES EXPORT_NAME systemc)

install(TARGETS axsa_hw axsa_tlm axsa_systemc EXPORT axsa_targets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION include/axsa)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/hw/ DESTINATION include/axsa/hw FILES_MATCHING PATTERN "*.h" PATTERN "mult" EXCLUDE)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/tlm/ DESTINATION include/axsa/tlm FILES_MATCHING PATTERN "*.h")

set(axsa_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/axsa)
install(EXPORT axsa_targets NAMESPACE axsa:: FILE axsaTargets.cmake DESTINATION ${axsa_cmake_dir})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/axsaConfig.cmake.in ${PROJECT_BINARY_DIR}/axsaConfig.cmake
                              INSTALL_DESTINATION ${axsa_cmake_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/axsaConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/axsaConfig.cmake ${PROJECT_BINARY_DIR}/axsaConfigVersion.cmake
        DESTINATION ${axsa_cmake_dir})
