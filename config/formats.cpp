#include "config/formats.hpp"

#include <algorithm>
#include <cstdint>
#include <string>

namespace sharekeeper::config::format {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_alnum(char c) { return is_digit(c) || is_lower(c) || is_upper(c); }
bool is_lower_alnum(char c) { return is_digit(c) || is_lower(c); }

template <typename Pred>
bool all_of(std::string_view s, Pred p) {
  return std::all_of(s.begin(), s.end(), p);
}

bool prefixed(std::string_view s, std::string_view prefix, std::size_t min_len, std::size_t max_len,
              bool (*pred)(char)) {
  if (!s.starts_with(prefix)) return false;
  auto rest = s.substr(prefix.size());
  return rest.size() >= min_len && rest.size() <= max_len && all_of(rest, pred);
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (is_upper(c)) c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

// Counts UTF-8 code points; the input was already checked to be valid UTF-8.
std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (char c : s)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  return n;
}

bool tag_text_ok(std::string_view s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F || c == '"' || c == '\\') return false;
  }
  return s.find("http://") == std::string_view::npos &&
         s.find("https://") == std::string_view::npos;
}

std::string normalize(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '_' || c == '-') continue;
    out.push_back(is_upper(c) ? static_cast<char>(c - 'A' + 'a') : c);
  }
  return out;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

bool is_account_uid(std::string_view s) { return s.size() == 16 && all_of(s, is_digit); }
bool is_image_id(std::string_view s) { return prefixed(s, "m-", 10, 32, is_lower_alnum); }
bool is_snapshot_id(std::string_view s) { return prefixed(s, "s-", 10, 32, is_lower_alnum); }
bool is_rd_id(std::string_view s) { return prefixed(s, "rd-", 6, 6, is_alnum); }
bool is_root_folder_id(std::string_view s) { return prefixed(s, "r-", 6, 6, is_alnum); }
bool is_folder_id(std::string_view s) { return prefixed(s, "fd-", 10, 10, is_alnum); }

bool is_folder_path(std::string_view s) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    auto slash = s.find('/', start);
    parts.push_back(s.substr(start, slash == std::string_view::npos ? s.npos : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  if (parts.size() < 3 || parts.size() > 2 + static_cast<std::size_t>(kMaxFolderLevels))
    return false;
  if (!is_rd_id(parts[0]) || !is_root_folder_id(parts[1])) return false;
  for (std::size_t i = 2; i < parts.size(); ++i)
    if (!is_folder_id(parts[i])) return false;
  return true;
}

std::string_view folder_path_rd(std::string_view path) { return path.substr(0, path.find('/')); }

bool is_region_id(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size() && is_lower(s[i])) ++i;
  if (i < 2 || i > 3) return false;
  int groups = 0;
  while (i < s.size()) {
    if (s[i] != '-') return false;
    ++i;
    std::size_t begin = i;
    while (i < s.size() && is_lower_alnum(s[i])) ++i;
    if (i == begin) return false;
    ++groups;
  }
  return groups >= 1 && groups <= 3 && s.size() <= 64;
}

const std::vector<std::string_view>& known_regions() {
  // Public regions of ECS (DescribeRegions) as of 2026; a well-formed id outside it is a warning
  // only, because new regions open faster than releases ship.
  static const std::vector<std::string_view> kRegions = {
      "ap-northeast-1",
      "ap-northeast-2",
      "ap-south-1",
      "ap-southeast-1",
      "ap-southeast-2",
      "ap-southeast-3",
      "ap-southeast-5",
      "ap-southeast-6",
      "ap-southeast-7",
      "cn-beijing",
      "cn-beijing-finance-1",
      "cn-chengdu",
      "cn-fuzhou",
      "cn-guangzhou",
      "cn-hangzhou",
      "cn-hangzhou-finance",
      "cn-heyuan",
      "cn-hongkong",
      "cn-huhehaote",
      "cn-nanjing",
      "cn-north-2-gov-1",
      "cn-qingdao",
      "cn-shanghai",
      "cn-shanghai-finance-1",
      "cn-shenzhen",
      "cn-shenzhen-finance-1",
      "cn-wuhan-lr",
      "cn-wulanchabu",
      "cn-zhangjiakou",
      "eu-central-1",
      "eu-west-1",
      "me-central-1",
      "me-east-1",
      "na-south-1",
      "us-east-1",
      "us-west-1",
  };
  return kRegions;
}

bool is_known_region(std::string_view s) {
  const auto& r = known_regions();
  return std::find(r.begin(), r.end(), s) != r.end();
}

std::optional<std::chrono::seconds> parse_duration(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::int64_t total = 0;
  int last_rank = 3;  // h=2, m=1, s=0; each unit at most once, in that order
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t begin = i;
    std::int64_t n = 0;
    while (i < s.size() && is_digit(s[i])) {
      n = n * 10 + (s[i] - '0');
      if (n > 1'000'000) return std::nullopt;
      ++i;
    }
    if (i == begin || i == s.size()) return std::nullopt;
    int rank = s[i] == 'h' ? 2 : s[i] == 'm' ? 1 : s[i] == 's' ? 0 : -1;
    if (rank < 0 || rank >= last_rank) return std::nullopt;
    last_rank = rank;
    total += n * (rank == 2 ? 3600 : rank == 1 ? 60 : 1);
    ++i;
  }
  return std::chrono::seconds(total);
}

bool is_name(std::string_view s) {
  return !s.empty() && s.size() <= 50 && is_alnum(s[0]) &&
         all_of(s, [](char c) { return is_alnum(c) || c == '.' || c == '_' || c == '-'; });
}

bool is_instance_name(std::string_view s) {
  if (s.empty() || s.size() > 63 || s.front() == '-' || s.back() == '-') return false;
  if (s.starts_with("aliyun") || s.starts_with("acs")) return false;
  return all_of(s, [](char c) { return is_lower_alnum(c) || c == '-'; });
}

bool is_env_var_name(std::string_view s) {
  return !s.empty() && s.size() <= 128 && !is_digit(s[0]) &&
         all_of(s, [](char c) { return is_alnum(c) || c == '_'; });
}

bool is_profile_name(std::string_view s) {
  return !s.empty() && s.size() <= 64 &&
         all_of(s, [](char c) { return is_alnum(c) || c == '.' || c == '_' || c == '-'; });
}

bool is_ram_role_name(std::string_view s) {
  return !s.empty() && s.size() <= 64 &&
         all_of(s, [](char c) { return is_alnum(c) || c == '.' || c == '-'; });
}

namespace {
bool ram_arn(std::string_view s, std::string_view kind, bool (*name_ok)(std::string_view)) {
  constexpr std::string_view kPrefix = "acs:ram::";
  if (!s.starts_with(kPrefix)) return false;
  s.remove_prefix(kPrefix.size());
  if (s.size() < 17 || !is_account_uid(s.substr(0, 16)) || s[16] != ':') return false;
  s.remove_prefix(17);
  if (!s.starts_with(kind)) return false;
  return name_ok(s.substr(kind.size()));
}
}  // namespace

bool is_role_arn(std::string_view s) { return ram_arn(s, "role/", is_ram_role_name); }

bool is_oidc_provider_arn(std::string_view s) {
  return ram_arn(s, "oidc-provider/", [](std::string_view n) {
    return !n.empty() && n.size() <= 128 &&
           all_of(n, [](char c) { return is_alnum(c) || c == '.' || c == '-'; });
  });
}

bool is_external_id(std::string_view s) {
  return s.size() >= 2 && s.size() <= 1224 && all_of(s, [](char c) {
           return is_alnum(c) || std::string_view("=,.@:/_-").find(c) != std::string_view::npos;
         });
}

bool is_role_session_name(std::string_view s) {
  return s.size() >= 2 && s.size() <= 64 && all_of(s, [](char c) {
           return is_alnum(c) || c == '.' || c == '@' || c == '_' || c == '-';
         });
}

bool is_absolute_file_path(std::string_view s) {
  if (s.size() < 2 || s.size() > 4096 || s[0] != '/' || s.back() == '/') return false;
  if (!all_of(s, [](char c) { return c > 0x20 && c < 0x7F && c != '"' && c != '\\'; }))
    return false;
  std::string padded = std::string(s) + "/";
  return padded.find("/../") == std::string::npos && padded.find("/./") == std::string::npos &&
         padded.find("//") == std::string::npos;
}

bool is_tag_key(std::string_view s) {
  auto n = code_points(s);
  return n >= 1 && n <= 128 && tag_text_ok(s) && !starts_with_ci(s, "aliyun") &&
         !starts_with_ci(s, "acs:");
}

bool is_tag_value(std::string_view s) { return code_points(s) <= 128 && tag_text_ok(s); }

bool is_endpoint_product(std::string_view s) {
  return s == "ecs" || s == "ram" || s == "sts" || s == "kms" || s == "resourcesharing";
}

std::optional<HttpUrl> split_http_url(std::string_view s) {
  HttpUrl url;
  if (s.starts_with("https://")) {
    s.remove_prefix(8);
  } else if (s.starts_with("http://")) {
    s.remove_prefix(7);
    url.plain_http = true;
  } else {
    return std::nullopt;
  }
  if (s.ends_with("/")) s.remove_suffix(1);
  url.host = s;
  if (auto colon = s.rfind(':'); colon != std::string_view::npos) {
    url.host = s.substr(0, colon);
    url.port = s.substr(colon + 1);
  }
  return url;
}

bool is_port(std::string_view s) {
  return !s.empty() && s.size() <= 5 && all_of(s, is_digit) && std::stoi(std::string(s)) <= 65535;
}

bool is_endpoint_url(std::string_view s) {
  const auto url = split_http_url(s);
  if (!url || (url->port && !is_port(*url->port))) return false;
  const bool http = url->plain_http;
  const std::string_view host = url->host;
  if (host.empty() || host.size() > 253) return false;
  // "{region}" is the only placeholder; anything else in braces is a typo.
  std::string h(host);
  for (auto pos = h.find("{region}"); pos != std::string::npos; pos = h.find("{region}"))
    h.replace(pos, 8, "region");
  if (!all_of(h, [](char c) { return is_lower_alnum(c) || c == '.' || c == '-'; })) return false;
  if (h.front() == '.' || h.front() == '-' || h.back() == '.' || h.find("..") != std::string::npos)
    return false;
  if (http) return h == "127.0.0.1" || h == "localhost";
  return true;
}

bool looks_like_access_key_id(std::string_view s) { return prefixed(s, "LTAI", 12, 28, is_alnum); }

std::optional<std::string_view> closest(std::string_view word,
                                        const std::vector<std::string_view>& candidates) {
  if (word.size() > 64) return std::nullopt;  // keeps the O(n*m) distance cheap on garbage input
  auto w = normalize(word);
  std::optional<std::string_view> best;
  std::size_t best_d = 0;
  for (auto c : candidates) {
    auto n = normalize(c);
    std::size_t d = edit_distance(w, n);
    std::size_t limit = n.size() <= 3 ? 1 : n.size() <= 6 ? 2 : 3;
    if (d <= limit && (!best || d < best_d)) {
      best = c;
      best_d = d;
    }
  }
  return best;
}

}  // namespace sharekeeper::config::format
