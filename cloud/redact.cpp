#include "cloud/redact.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <deque>
#include <mutex>
#include <shared_mutex>
#include <vector>

#include "cloud/signer.hpp"

namespace sharekeeper::cloud::redact {
namespace {

struct Registered {
  std::string raw;
  std::vector<std::string> forms;  // raw, percent-encoded, JSON-escaped: how it can appear in text
};

struct Registry {
  std::shared_mutex mu;
  std::deque<Registered> entries;
  // Every form of every entry, longest first, so a secret that contains another is masked whole.
  std::vector<std::string> forms;
};

void rebuild_forms(Registry& r) {
  r.forms.clear();
  for (const auto& e : r.entries) r.forms.insert(r.forms.end(), e.forms.begin(), e.forms.end());
  std::stable_sort(r.forms.begin(), r.forms.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

Registry& registry() {
  static Registry r;
  return r;
}

// Keys whose value is secret (or, for AccessKeyId, identifying enough that the SDK advice is to
// scrub it). Matched case-insensitively and followed by an optional quote, then "=" or ":".
struct Key {
  std::string_view name;
  bool to_end_of_line;  // header values with spaces and commas ("ACS3-HMAC-SHA256 Credential=...")
};
constexpr std::array<Key, 16> kKeys{{
    {"authorization", true},
    {"x-acs-security-token", false},
    {"x-acs-accesskey-id", false},
    {"accesskeysecret", false},
    {"access_key_secret", false},
    {"access-key-secret", false},
    {"securitytoken", false},
    {"security_token", false},
    {"sts_token", false},
    {"accesskeyid", false},
    {"access_key_id", false},
    {"signature", false},
    {"credential", false},
    {"oidctoken", false},
    {"oidc_token", false},
    {"x-aliyun-ecs-metadata-token", false},
}};

bool iequals_at(std::string_view text, std::size_t pos, std::string_view key) {
  if (text.size() - pos < key.size()) return false;
  for (std::size_t i = 0; i < key.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[pos + i])) != key[i]) return false;
  }
  return true;
}

bool value_terminator(char c) {
  switch (c) {
    case '&':
    case ' ':
    case '\t':
    case '\r':
    case '\n':
    case ',':
    case ';':
    case '"':
    case '\'':
    case '<':
    case '>':
    case ')':
    case ']':
    case '}':
      return true;
    default:
      return false;
  }
}

std::string json_escaped(std::string_view s) {
  std::string out;
  for (const char c : s) {
    if (c == '/')
      out += "\\/";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\\')
      out += "\\\\";
    else
      out.push_back(c);
  }
  return out;
}

void replace_all(std::string& text, std::string_view needle) {
  if (needle.empty()) return;
  std::size_t pos = 0;
  while ((pos = text.find(needle, pos)) != std::string::npos) {
    text.replace(pos, needle.size(), kMask);
    pos += kMask.size();
  }
}

void scrub_registered(std::string& text) {
  Registry& r = registry();
  std::shared_lock lock(r.mu);
  for (const auto& f : r.forms) replace_all(text, f);
}

// Masks the value after every key of kKeys.
std::string scrub_patterns(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const Key* hit = nullptr;
    for (const auto& k : kKeys) {
      if (iequals_at(text, i, k.name)) {
        hit = &k;
        break;
      }
    }
    if (hit == nullptr) {
      out.push_back(text[i++]);
      continue;
    }
    std::size_t p = i + hit->name.size();
    if (p < text.size() && (text[p] == '"' || text[p] == '\'')) ++p;  // closing quote of a JSON key
    while (p < text.size() && text[p] == ' ') ++p;
    // "=" / ":" as written, or "%3D" where the pairs are percent-encoded once more: a V1 string to
    // sign ("...SecurityToken%3DCAIS%252B...%26...") quoted back by SignatureDoesNotMatch.
    const bool encoded = iequals_at(text, p, "%3d");
    if (p >= text.size() || (text[p] != '=' && text[p] != ':' && !encoded)) {
      // Not a key=value (e.g. "SignatureMethod", "SignedHeaders=...;x-acs-security-token;").
      out.append(text.substr(i, hit->name.size()));
      i += hit->name.size();
      continue;
    }
    p += encoded ? 3U : 1U;
    while (p < text.size() && text[p] == ' ') ++p;
    char quote = 0;
    if (p < text.size() && (text[p] == '"' || text[p] == '\'')) quote = text[p++];
    std::size_t end = p;
    if (quote != 0) {
      while (end < text.size() && text[end] != quote)
        end += (text[end] == '\\' && end + 1 < text.size()) ? 2U : 1U;
      end = std::min(end, text.size());
    } else if (hit->to_end_of_line) {
      while (end < text.size() && text[end] != '\r' && text[end] != '\n') ++end;
    } else {
      // Inside an encoded pair list every "%" of a value is itself "%25", so "%26" can only be the
      // next pair's "&".
      while (end < text.size() && !value_terminator(text[end]) &&
             !(encoded && iequals_at(text, end, "%26")))
        ++end;
    }
    out.append(text.substr(i, p - i));
    if (end > p) out.append(kMask);
    i = end;
  }
  return out;
}

bool url_token_break(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '"' || c == '\'' || c == '<' ||
         c == '>' || c == '(' || c == '`';
}

// "https://h/p?a=b" -> "https://h/p?***" and "POST /?a=b" -> "POST /?***": the query of an Alibaba
// RPC URL carries AccessKeyId, SecurityToken and Signature (the official C++ SDK's leak,
// docs/failure-matrix.md §0).
std::string scrub_url_queries(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] != '?') {
      out.push_back(text[i++]);
      continue;
    }
    std::size_t start = i;
    while (start > 0 && !url_token_break(text[start - 1])) --start;
    const std::string_view token = text.substr(start, i - start);
    const bool is_url = token.starts_with("/") || token.find("://") != std::string_view::npos;
    out.push_back('?');
    ++i;
    if (!is_url) continue;
    std::size_t end = i;
    while (end < text.size() && !url_token_break(text[end])) ++end;
    if (end > i) out.append(kMask);
    i = end;
  }
  return out;
}

}  // namespace

void register_secret(std::string_view secret) {
  if (secret.size() < kMinSecretLength) return;
  Registry& r = registry();
  {
    // The client registers the same secret on every call: keep that path on the shared lock.
    std::shared_lock read(r.mu);
    for (const auto& e : r.entries) {
      if (e.raw == secret) return;
    }
  }
  std::unique_lock lock(r.mu);
  for (const auto& e : r.entries) {
    if (e.raw == secret) return;
  }
  Registered e;
  e.raw = std::string(secret);
  e.forms.push_back(e.raw);
  // Double-encoded: how a value appears inside a V1 string to sign.
  for (std::string f :
       {percent_encode(secret), percent_encode(percent_encode(secret)), json_escaped(secret)}) {
    if (std::find(e.forms.begin(), e.forms.end(), f) == e.forms.end())
      e.forms.push_back(std::move(f));
  }
  r.entries.push_back(std::move(e));
  while (r.entries.size() > kMaxSecrets) r.entries.pop_front();
  rebuild_forms(r);
}

void clear_registered_secrets() {
  Registry& r = registry();
  std::unique_lock lock(r.mu);
  r.entries.clear();
  r.forms.clear();
}

std::string scrub_keep_urls(std::string_view text) {
  std::string s(text);
  scrub_registered(s);
  return scrub_patterns(s);
}

std::string scrub(std::string_view text) { return scrub_url_queries(scrub_keep_urls(text)); }

}  // namespace sharekeeper::cloud::redact
