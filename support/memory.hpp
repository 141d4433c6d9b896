#pragma once
// How the glibc allocator holds the daemon's memory. A pass over many accounts runs on dozens of
// threads; glibc gives them up to 8 malloc arenas per core (16 here), each keeping its own free
// memory and fragments, so the resident size after a pass is far above what is live. Measured with
// bench_converge's 200 accounts (bench/daemon/README.md "Memory", three runs each): with 16 arenas
// 129.5–131.0 MB after a pass; with 2 arenas 113.5–154.0 MB; with 2 arenas and the free memory
// given back when the last pass finishes (daemon/scheduler.cpp) 111.0–112.7 MB. The daemon's
// threads spend their time waiting on the network, so two arenas cost no measurable contention (its
// passes took as long). Elsewhere than glibc both do nothing.
#include <cstddef>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace sharekeeper::support {

// At most `arenas` malloc arenas. Call before any thread starts.
inline void limit_malloc_arenas(int arenas) {
#if defined(__GLIBC__)
  mallopt(M_ARENA_MAX, arenas);
#else
  (void)arenas;
#endif
}

// Blocks of `map_bytes` or more get their own mapping, returned to the system when freed, and free
// memory above `trim_bytes` at the top of an arena is returned at once. glibc starts both
// thresholds at 128 KiB and raises them each time a mapped block is freed, up to 32 MiB for mapping
// and twice that for the top: after one /metrics answer (29 MB at 30,000 grants) every later one
// was built inside an arena and stayed resident (bench/daemon/README.md "Memory", 2026-12-08:
// 138–143 MB after a pass with glibc's thresholds, 113–116 MB with these fixed at 128 KiB and
// 1 MiB). Setting them turns the raising off. `sharekeeper run` sets them (daemon/cmd_run.cpp).
inline void fix_malloc_thresholds(std::size_t map_bytes, std::size_t trim_bytes) {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, static_cast<int>(map_bytes));
  mallopt(M_TRIM_THRESHOLD, static_cast<int>(trim_bytes));
#else
  (void)map_bytes;
  (void)trim_bytes;
#endif
}

// Gives back to the system the whole free pages every arena holds (malloc_trim(0), glibc >= 2.8).
inline void release_free_memory() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

}  // namespace sharekeeper::support
