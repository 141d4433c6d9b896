#pragma once
// Small text helpers shared by every folder (no locale: the ids and names they handle are ASCII).
#include <algorithm>
#include <cctype>
#include <string>

namespace sharekeeper::support {

// `s` with A-Z folded to a-z (RAM compares role and policy names, and policy actions,
// case-insensitively).
inline std::string ascii_lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace sharekeeper::support
