#pragma once
// Rendezvous (highest-random-weight) hashing: which live member should own an account. Every
// replica computes the same answer from the same member list, with no coordination, and a member
// joining or leaving moves only the accounts it wins or held (about 1/N of them), never reshuffles
// the rest.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sharekeeper::coordination {

// The weight of (member, account): a 64-bit hash of both, stable across builds, hosts and
// processes (FNV-1a over "member\0account", then the splitmix64 finalizer so nearby names spread).
std::uint64_t hrw_weight(std::string_view member, std::string_view account);

// The member with the highest weight for `account` (ties, which need a 64-bit collision, go to the
// smaller name); nullopt when `members` is empty.
std::optional<std::string> hrw_owner(std::string_view account,
                                     const std::vector<std::string>& members);

}  // namespace sharekeeper::coordination
