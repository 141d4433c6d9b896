#pragma once
// Request signing, V1 (HMAC-SHA1) and V3 (ACS3-HMAC-SHA256): docs/alibaba-api.md §1.2-§1.3.
// Pure functions; reproduced against every vector of reference/signature-vectors.json in the tests.
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sharekeeper::cloud {

// Decoded parameters, sorted by name in byte order.
using Params = std::map<std::string, std::string>;

// RFC 3986: A-Z a-z 0-9 - _ . ~ kept, everything else %XY upper-case (space -> %20, * -> %2A).
std::string percent_encode(std::string_view s);
// "pct(name)=pct(value)" joined by "&", names in byte order.
std::string canonicalized_query(const Params& params);

std::string sha256_hex(std::string_view data);
// RFC 4648 base64, padded (the V1 signature, the proxy's Basic credentials).
std::string base64_encode(std::string_view data);
std::string hmac_sha1_base64(std::string_view key, std::string_view data);
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

struct V1Signature {
  std::string string_to_sign;
  std::string signature;  // base64
};
// `params`: every query and form parameter except Signature (including the common ones).
V1Signature sign_v1(std::string_view method, const Params& params,
                    std::string_view access_key_secret);

struct V3Input {
  std::string method = "POST";
  std::string path = "/";
  Params
      query;  // decoded; form-body parameters are NOT included (they are covered by the body hash)
  std::vector<std::pair<std::string, std::string>>
      headers;  // every header to sign: host, x-acs-*, content-type
  std::string body;
};
struct V3Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signed_headers;  // "host;x-acs-action;..."
  std::string signature;       // lower-case hex
  std::string authorization;   // "ACS3-HMAC-SHA256 Credential=...,SignedHeaders=...,Signature=..."
};
V3Signature sign_v3(const V3Input& input, std::string_view access_key_id,
                    std::string_view access_key_secret);

}  // namespace sharekeeper::cloud
