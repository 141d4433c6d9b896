// Counts the bytes live on the heap of a test binary, and their peak since the last reset_peak(),
// by replacing the global operator new/delete (malloc_usable_size, so the allocator's rounding is
// counted too). For tests that bound what a value retains or what a call needs at its peak: a count
// of bytes, not a timing. Include it in exactly one TU of a binary (it defines the replacements).
#pragma once

#include <malloc.h>

#include <atomic>
#include <cstdlib>
#include <new>

namespace sharekeeper::testing::heap {

inline std::atomic<long long> g_live{0};
inline std::atomic<long long> g_peak{0};

inline long long live() { return g_live.load(); }
inline long long peak() { return g_peak.load(); }
inline void reset_peak() { g_peak.store(g_live.load()); }

inline void* counted(std::size_t n) {
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  const auto size = static_cast<long long>(malloc_usable_size(p));
  const long long now = g_live.fetch_add(size) + size;
  long long seen = g_peak.load();
  while (now > seen && !g_peak.compare_exchange_weak(seen, now)) {
  }
  return p;
}

inline void release(void* p) noexcept {
  if (p == nullptr) return;
  g_live.fetch_sub(static_cast<long long>(malloc_usable_size(p)));
  std::free(p);
}

}  // namespace sharekeeper::testing::heap

void* operator new(std::size_t n) { return sharekeeper::testing::heap::counted(n); }
void* operator new[](std::size_t n) { return sharekeeper::testing::heap::counted(n); }
void operator delete(void* p) noexcept { sharekeeper::testing::heap::release(p); }
void operator delete[](void* p) noexcept { sharekeeper::testing::heap::release(p); }
void operator delete(void* p, std::size_t) noexcept { sharekeeper::testing::heap::release(p); }
void operator delete[](void* p, std::size_t) noexcept { sharekeeper::testing::heap::release(p); }
