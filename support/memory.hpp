#pragma once
// How the glibc allocator holds the daemon's memory. A pass over many accounts runs on dozens of
// threads; glibc gives them up to 8 malloc arenas per core (16 here), each keeping its own free
// memory and fragments, so the resident size after a pass is far above what is live. Measured with
// bench_converge's 200 accounts (bench/daemon/README.md "Memory", three runs each): with 16 arenas
// 129.5–131.0 MB after a pass; with 2 arenas 113.5–154.0 MB; with 2 arenas and the free memory
// given back when the last pass finishes (daemon/scheduler.cpp) 111.0–112.7 MB. The daemon's
// threads spend their time waiting on the network, so two arenas cost no measurable contention (its
// passes took as long). Elsewhere than glibc both do nothing.
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

// Gives back to the system the whole free pages every arena holds (malloc_trim(0), glibc >= 2.8).
inline void release_free_memory() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

}  // namespace sharekeeper::support
