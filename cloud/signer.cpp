#include "cloud/signer.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>

#include "support/wire.hpp"

namespace sharekeeper::cloud {
namespace {

constexpr char kHexUpper[] = "0123456789ABCDEF";
constexpr char kHexLower[] = "0123456789abcdef";

bool unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

std::string to_hex(const unsigned char* data, std::size_t n) {
  std::string out;
  out.resize(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = kHexLower[data[i] >> 4];
    out[2 * i + 1] = kHexLower[data[i] & 0x0f];
  }
  return out;
}

std::string base64(const unsigned char* data, std::size_t n) {
  std::string out;
  out.resize(4 * ((n + 2) / 3));
  const int written =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
  out.resize(static_cast<std::size_t>(written));
  return out;
}

// HMAC via the one-shot EVP-backed API (OpenSSL 3 implements HMAC() on top of EVP_MAC).
std::size_t hmac(const EVP_MD* md, std::string_view key, std::string_view data,
                 std::array<unsigned char, EVP_MAX_MD_SIZE>& out) {
  unsigned int len = 0;
  HMAC(md, key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(), &len);
  return len;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// V3 signs host, content-type and every x-acs-* header (docs/alibaba-api.md §1.3); user-agent,
// accept and authorization are sent but not signed.
bool signed_header(std::string_view lower_name) {
  return lower_name == "host" || lower_name == "content-type" || lower_name.starts_with("x-acs-");
}

}  // namespace

std::string base64_encode(std::string_view data) {
  return base64(reinterpret_cast<const unsigned char*>(data.data()), data.size());
}

std::string percent_encode(std::string_view s) {
  std::string out;
  out.reserve(s.size() * 3);
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (unreserved(c)) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHexUpper[c >> 4]);
      out.push_back(kHexUpper[c & 0x0f]);
    }
  }
  return out;
}

std::string canonicalized_query(const Params& params) {
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out.push_back('&');
    out += percent_encode(name);
    out.push_back('=');
    out += percent_encode(value);
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md.data(), &len, EVP_sha256(), nullptr);
  return to_hex(md.data(), len);
}

std::string hmac_sha1_base64(std::string_view key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  const std::size_t n = hmac(EVP_sha1(), key, data, md);
  return base64(md.data(), n);
}

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  const std::size_t n = hmac(EVP_sha256(), key, data, md);
  return to_hex(md.data(), n);
}

V1Signature sign_v1(std::string_view method, const Params& params,
                    std::string_view access_key_secret) {
  V1Signature out;
  out.string_to_sign.reserve(64 + params.size() * 48);
  out.string_to_sign.append(method);
  out.string_to_sign.append("&%2F&");
  out.string_to_sign.append(percent_encode(canonicalized_query(params)));
  std::string key(access_key_secret);
  key.push_back('&');
  out.signature = hmac_sha1_base64(key, out.string_to_sign);
  return out;
}

V3Signature sign_v3(const V3Input& input, std::string_view access_key_id,
                    std::string_view access_key_secret) {
  // Sorted by lower-case name; repeated headers are joined with "," in their given order.
  std::map<std::string, std::string> headers;
  for (const auto& [name, value] : input.headers) {
    std::string n = lower(name);
    if (!signed_header(n)) continue;
    auto [it, inserted] = headers.try_emplace(std::move(n), std::string(trim(value)));
    if (!inserted) {
      it->second.push_back(',');
      it->second.append(trim(value));
    }
  }

  V3Signature out;
  std::string canonical_headers;
  for (const auto& [name, value] : headers) {
    canonical_headers += name;
    canonical_headers.push_back(':');
    canonical_headers += value;
    canonical_headers.push_back('\n');
    if (!out.signed_headers.empty()) out.signed_headers.push_back(';');
    out.signed_headers += name;
  }

  // The last line is the hash of the body bytes themselves, not the x-acs-content-sha256 header: a
  // mismatching header must make the signature fail, never vouch for a different body.
  const std::string hashed_payload =
      input.body.empty() ? std::string(wire::kEmptySha256) : sha256_hex(input.body);

  std::string& cr = out.canonical_request;
  cr.reserve(256 + canonical_headers.size() + input.query.size() * 48);
  cr += input.method;
  cr.push_back('\n');
  cr += input.path;
  cr.push_back('\n');
  cr += canonicalized_query(input.query);
  cr.push_back('\n');
  cr += canonical_headers;
  cr.push_back('\n');
  cr += out.signed_headers;
  cr.push_back('\n');
  cr += hashed_payload;

  out.string_to_sign.append(wire::kV3Algorithm);
  out.string_to_sign.push_back('\n');
  out.string_to_sign += sha256_hex(cr);
  out.signature = hmac_sha256_hex(access_key_secret, out.string_to_sign);

  out.authorization.append(wire::kV3Algorithm);
  out.authorization += " Credential=";
  out.authorization.append(access_key_id);
  out.authorization += ",SignedHeaders=";
  out.authorization += out.signed_headers;
  out.authorization += ",Signature=";
  out.authorization += out.signature;
  return out;
}

}  // namespace sharekeeper::cloud
