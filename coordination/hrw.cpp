#include "coordination/hrw.hpp"

namespace sharekeeper::coordination {

std::uint64_t hrw_weight(std::string_view member, std::string_view account) {
  std::uint64_t h = 14695981039346656037ULL;  // FNV-1a 64 offset basis
  auto mix = [&h](unsigned char c) {
    h ^= c;
    h *= 1099511628211ULL;  // FNV prime
  };
  for (char c : member) mix(static_cast<unsigned char>(c));
  mix(0);  // "ab"+"c" and "a"+"bc" must differ
  for (char c : account) mix(static_cast<unsigned char>(c));
  // splitmix64 finalizer: FNV alone leaves the high bits of similar inputs correlated.
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return h;
}

std::optional<std::string> hrw_owner(std::string_view account,
                                     const std::vector<std::string>& members) {
  const std::string* best = nullptr;
  std::uint64_t best_weight = 0;
  for (const auto& m : members) {
    const std::uint64_t w = hrw_weight(m, account);
    if (best == nullptr || w > best_weight || (w == best_weight && m < *best)) {
      best = &m;
      best_weight = w;
    }
  }
  if (best == nullptr) return std::nullopt;
  return *best;
}

}  // namespace sharekeeper::coordination
