# synscope_add_test(NAME name LABEL unit|integration|slow SOURCES ... DEPS ... [PROPERTIES ...])
# One place that registers every GoogleTest binary with CTest and labels each test it holds.
include(GoogleTest)
find_package(GTest REQUIRED)

add_custom_target(unit_tests)

# Test code is compiled without optimisation in every build type: what it tests (the libraries,
# the synscope binary) keeps the build's flags, and a test file at -O2 -g took five times as long
# to compile (kernel_view_test.cpp: 48 s against 9 s), most of CI's build.
function(synscope_test_compile_options target)
  target_compile_options(${target} PRIVATE -O0)
endfunction()

function(synscope_add_test)
  cmake_parse_arguments(T "" "NAME;LABEL" "SOURCES;DEPS;PROPERTIES" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE ${T_DEPS} GTest::gtest GTest::gmock GTest::gtest_main
                        synscope_warnings)
  target_include_directories(${T_NAME} PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/tests)
  synscope_test_compile_options(${T_NAME})
  target_compile_definitions(${T_NAME} PRIVATE
    SYNSCOPE_BINARY="$<TARGET_FILE:synscope>"
    SYNSCOPE_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    SYNSCOPE_SHARED_DIR="${SYNSCOPE_SHARED_DIR}")
  if(T_LABEL STREQUAL "unit")
    # The sanitizer build compiles only these (`cmake --build --preset asan`, target unit_tests).
    add_dependencies(unit_tests ${T_NAME})
  else()
    add_dependencies(${T_NAME} synscope)  # the integration tests run the binary
  endif()
  gtest_discover_tests(${T_NAME} PROPERTIES LABELS ${T_LABEL} ${T_PROPERTIES} DISCOVERY_TIMEOUT 60)
endfunction()
