# sharekeeper_options: C++20, warnings, sanitizers. Every first-party target links it PRIVATE or PUBLIC.
add_library(sharekeeper_options INTERFACE)
target_include_directories(sharekeeper_options INTERFACE ${PROJECT_SOURCE_DIR})
add_library(sharekeeper::options ALIAS sharekeeper_options)
target_compile_features(sharekeeper_options INTERFACE cxx_std_20)
target_compile_options(sharekeeper_options INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align -Wunused -Woverloaded-virtual
  -Wimplicit-fallthrough -Wformat=2 -Wno-mismatched-new-delete
  $<$<BOOL:${SHAREKEEPER_WERROR}>:-Werror>)
# -Wconversion -Wsign-conversion (implicit narrowing, and signed <-> unsigned) are in the set for every
# first-party target (product, tests, benchmarks, fuzzers), fixed rather than suppressed: a static_cast
# where the narrowing is intended and provably safe, a checked conversion where it is not.
target_compile_options(sharekeeper_options INTERFACE -Wconversion -Wsign-conversion)
# No -Wnull-dereference, and -Wno-mismatched-new-delete: GCC 12 reports false positives for both inside
# Asio coroutine frames (awaitable_frame_base operator new/delete) at -O1 and above (the asan preset).
# Asio and Beast are compiled once, in support/asio_impl.cpp (BOOST_ASIO_SEPARATE_COMPILATION).
target_compile_definitions(sharekeeper_options INTERFACE
  BOOST_ASIO_SEPARATE_COMPILATION BOOST_BEAST_SEPARATE_COMPILATION BOOST_ASIO_NO_DEPRECATED
  SHAREKEEPER_VERSION="${PROJECT_VERSION}")
if(SHAREKEEPER_SANITIZE)
  target_compile_options(sharekeeper_options INTERFACE -fsanitize=${SHAREKEEPER_SANITIZE} -fno-omit-frame-pointer)
  # A UBSan finding stops the process (a failed test), whatever UBSAN_OPTIONS the environment has.
  if(SHAREKEEPER_SANITIZE MATCHES "undefined")
    target_compile_options(sharekeeper_options INTERFACE -fno-sanitize-recover=undefined)
  endif()
  target_link_options(sharekeeper_options INTERFACE -fsanitize=${SHAREKEEPER_SANITIZE})
endif()
