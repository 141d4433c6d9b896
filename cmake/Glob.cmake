# sharekeeper_glob_sources(VAR DIR [EXCLUDE name.cpp ...]): the folder's *.cpp, re-globbed on every build
# (CONFIGURE_DEPENDS), so parallel work in one folder never fights over a source list.
function(sharekeeper_glob_sources var dir)
  cmake_parse_arguments(G "" "" "EXCLUDE" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS ${dir}/*.cpp)
  foreach(ex ${G_EXCLUDE})
    list(FILTER srcs EXCLUDE REGEX "/${ex}$")
  endforeach()
  set(${var} ${srcs} PARENT_SCOPE)
endfunction()

# sharekeeper_glob_tests(DIR LIBS ... [LABELS ...]): every DIR/*_test.cpp becomes one GoogleTest binary
# named <folder>_<file>; DIR/support/*.cpp (test helpers) are compiled into each of them.
function(sharekeeper_glob_tests prefix dir)
  cmake_parse_arguments(G "" "" "LIBS;LABELS" ${ARGN})
  file(GLOB tests CONFIGURE_DEPENDS ${dir}/*_test.cpp)
  file(GLOB support CONFIGURE_DEPENDS ${dir}/support/*.cpp)
  foreach(t ${tests})
    get_filename_component(n ${t} NAME_WE)
    sharekeeper_add_test(${prefix}_${n} SOURCES ${t} ${support} LIBS ${G_LIBS} LABELS ${G_LABELS})
  endforeach()
endfunction()

# sharekeeper_add_library(NAME SOURCES ... PUBLIC ... PRIVATE ...): a STATIC library, or an INTERFACE one
# while the folder has no sources yet (so an empty folder never breaks the configure step).
function(sharekeeper_add_library name)
  cmake_parse_arguments(L "" "" "SOURCES;PUBLIC;PRIVATE" ${ARGN})
  if(L_SOURCES)
    add_library(${name} STATIC ${L_SOURCES})
    target_link_libraries(${name} PUBLIC ${L_PUBLIC} PRIVATE ${L_PRIVATE})
  else()
    add_library(${name} INTERFACE)
    target_link_libraries(${name} INTERFACE ${L_PUBLIC})
  endif()
  string(REPLACE "sharekeeper_" "" short ${name})
  add_library(sharekeeper::${short} ALIAS ${name})
endfunction()
