#pragma once
// The grants of the current config as one table of rows, in GrantKey's order, each row's key four
// indices into names kept once. StatusStore and Metrics each kept a std::map<GrantKey, Row>: at
// 30,000 grants (bench_converge's organisation) every row paid a tree node, four strings and a heap
// copy of its 16-digit target, in both (bench/daemon/README.md "Memory", 2026-12-08). Here a key is
// 16 bytes and rows are one array. Not thread-safe: its owner's lock guards it.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "daemon/account_runner.hpp"

namespace sharekeeper::daemon {

// A key as views: of a GrantKey, or of a table's names (valid until the table's next assign()).
struct GrantKeyView {
  std::string_view account;
  std::string_view share;
  std::string_view target_type;
  std::string_view target;
  // Member by member, as GrantKey compares.
  // NOLINTNEXTLINE(modernize-use-nullptr): the 0 is in libstdc++'s comparison categories
  friend auto operator<=>(const GrantKeyView&, const GrantKeyView&) = default;  // and ==
  static GrantKeyView of(const GrantKey& k) {
    return {k.account, k.share, k.target_type, k.target};
  }
};

template <class Row>
class GrantTable {
 public:
  std::size_t size() const { return rows_.size(); }
  GrantKeyView key(std::size_t i) const {
    const Packed& p = keys_[i];
    return {names_[p[0]], names_[p[1]], names_[p[2]], names_[p[3]]};
  }
  Row& row(std::size_t i) { return rows_[i]; }
  const Row& row(std::size_t i) const { return rows_[i]; }

  // The row of `k`, or nullptr.
  Row* find(const GrantKey& k) {
    const GrantKeyView want = GrantKeyView::of(k);
    const std::size_t i = lower_bound(want);
    return i < size() && key(i) == want ? &rows_[i] : nullptr;
  }
  // The rows of one account: [first, last).
  std::pair<std::size_t, std::size_t> account_range(std::string_view account) const {
    std::size_t first = lower_bound({account, {}, {}, {}});
    std::size_t last = first;
    while (last < size() && key(last).account == account) ++last;
    return {first, last};
  }

  // The table becomes `keys` (any order; duplicates count once): a key it had keeps its row, a new
  // one starts as `fresh`, the others are dropped.
  void assign(std::vector<GrantKey> keys, const Row& fresh) {
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    std::vector<std::string> names;
    std::unordered_map<std::string_view, std::uint32_t> index;  // views into `keys`
    auto name = [&](const std::string& s) {
      auto [it, added] = index.try_emplace(s, static_cast<std::uint32_t>(names.size()));
      if (added) names.push_back(s);
      return it->second;
    };
    std::vector<Packed> packed;
    std::vector<Row> rows;
    packed.reserve(keys.size());
    rows.reserve(keys.size());
    std::size_t old = 0;  // both are sorted: one walk pairs the rows that stay
    for (const GrantKey& k : keys) {
      const GrantKeyView v = GrantKeyView::of(k);
      while (old < size() && key(old) < v) ++old;
      const bool kept = old < size() && key(old) == v;
      packed.push_back({name(k.account), name(k.share), name(k.target_type), name(k.target)});
      rows.push_back(kept ? std::move(rows_[old]) : fresh);
    }
    names_ = std::move(names);
    keys_ = std::move(packed);
    rows_ = std::move(rows);
  }

 private:
  using Packed = std::array<std::uint32_t, 4>;

  std::size_t lower_bound(const GrantKeyView& v) const {
    std::size_t lo = 0, hi = size();
    while (lo < hi) {
      const std::size_t mid = lo + (hi - lo) / 2;
      if (key(mid) < v)
        lo = mid + 1;
      else
        hi = mid;
    }
    return lo;
  }

  std::vector<std::string> names_;
  std::vector<Packed> keys_;
  std::vector<Row> rows_;
};

}  // namespace sharekeeper::daemon
