#include "emulator/verifier.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <string>

#include "support/wire.hpp"

namespace sharekeeper::emulator {
namespace {

constexpr std::string_view kHex = "0123456789ABCDEF";
constexpr std::string_view kHexLower = "0123456789abcdef";

bool is_unreserved(unsigned char c) {
  return std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string to_lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool iequals(std::string_view a, std::string_view b) { return to_lower(a) == to_lower(b); }

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::string hex_encode(const unsigned char* data, std::size_t size) {
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(kHexLower[data[i] >> 4]);
    out.push_back(kHexLower[data[i] & 0x0f]);
  }
  return out;
}

// Signatures are compared in constant time: the emulator is a test double, but a timing oracle in
// it would still be a bad example to copy.
bool equal_secret(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

const std::map<std::string_view, std::set<std::string_view>>& catalogue() {
  static const std::map<std::string_view, std::set<std::string_view>> kCatalogue = {
      {"ram",
       {"CreateRole",
        "GetRole",
        "UpdateRole",
        "DeleteRole",
        "ListRoles",
        "CreatePolicy",
        "GetPolicy",
        "DeletePolicy",
        "ListPolicies",
        "CreatePolicyVersion",
        "GetPolicyVersion",
        "ListPolicyVersions",
        "DeletePolicyVersion",
        "SetDefaultPolicyVersion",
        "AttachPolicyToRole",
        "DetachPolicyFromRole",
        "ListPoliciesForRole",
        "ListEntitiesForPolicy",
        "UpdatePolicyDescription",
        "TagResources",
        "UntagResources",
        "ListTagResources",
        "GetAccountAlias"}},
      {"sts", {"GetCallerIdentity", "AssumeRole", "AssumeRoleWithOIDC", "AssumeRoleWithSAML"}},
      {"ecs",
       {"DescribeSnapshots", "DescribeImages", "DescribeImageSharePermission",
        "ModifyImageSharePermission", "DeleteImage", "DescribeRegions", "DescribeDisks",
        "TagResources", "UntagResources", "ListTagResources",
        // KMS keys used by ECS (model_ecs_disks.cpp)
        "CopySnapshot"}},
      {"kms",
       {"DescribeKey", "ListKeys", "ListAliases", "ListAliasesByKeyId", "ListResourceTags",
        "TagResource", "UntagResource", "DescribeRegions",
        // key state (model_kms.cpp)
        "DisableKey", "EnableKey"}},
      {"resourcesharing",
       {"CreateResourceShare", "UpdateResourceShare", "DeleteResourceShare",
        "AssociateResourceShare", "DisassociateResourceShare", "ListResourceShareAssociations",
        "ListSharedResources", "ListSharedTargets", "ListResourceShares",
        "ListResourceShareInvitations", "AcceptResourceShareInvitation",
        "RejectResourceShareInvitation", "EnableSharingWithResourceDirectory", "ListPermissions",
        "ListResourceSharePermissions", "TagResources", "UntagResources", "ListTagResources"}},
      // Resource Directory reads (model_resource_directory.cpp)
      {"resourcemanager", {"GetResourceDirectory", "ListAccounts", "GetAccount"}},
  };
  return kCatalogue;
}

std::string missing_parameter(std::string_view name) {
  return "The input parameter \"" + std::string(name) +
         "\" that is mandatory for processing this request is not supplied.";
}

// V1's echoed string-to-sign would otherwise carry the STS token back into client error logs.
std::string redact_token(std::string string_to_sign, std::string_view token) {
  if (token.empty()) return string_to_sign;
  // The token appears twice-encoded in the V1 string-to-sign.
  const std::string encoded = pct_encode(pct_encode(token));
  for (std::size_t at = string_to_sign.find(encoded); at != std::string::npos;
       at = string_to_sign.find(encoded, at)) {
    string_to_sign.replace(at, encoded.size(), "<redacted>");
  }
  return string_to_sign;
}

struct Authorization {
  std::string algorithm;
  std::string credential;
  std::string signed_headers;
  std::string signature;
};

std::optional<Authorization> parse_authorization(std::string_view header) {
  const auto space = header.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  Authorization auth;
  auth.algorithm = std::string(header.substr(0, space));
  std::string_view rest = header.substr(space + 1);
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const std::string_view item = trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    const auto eq = item.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    const std::string_view name = trim(item.substr(0, eq));
    const std::string value(trim(item.substr(eq + 1)));
    if (name == "Credential") {
      auth.credential = value;
    } else if (name == "SignedHeaders") {
      auth.signed_headers = value;
    } else if (name == "Signature") {
      auth.signature = value;
    }
  }
  if (auth.credential.empty() || auth.signed_headers.empty() || auth.signature.empty()) {
    return std::nullopt;
  }
  return auth;
}

std::string header_value(const std::map<std::string, std::string>& headers, std::string_view name) {
  const auto it = headers.find(std::string(name));
  return it == headers.end() ? std::string{} : it->second;
}

std::string find_param(const std::map<std::string, std::string>& params, std::string_view name) {
  const auto it = params.find(std::string(name));
  return it == params.end() ? std::string{} : it->second;
}

}  // namespace

std::string_view to_string(SignatureVersion version) {
  switch (version) {
    case SignatureVersion::kV1:
      return "V1";
    case SignatureVersion::kV3:
      return "V3";
    case SignatureVersion::kNone:
      break;
  }
  return "none";
}

std::optional<std::string_view> product_for_version(std::string_view version) {
  if (version == wire::kRamVersion) return "ram";
  if (version == wire::kStsVersion) return "sts";
  if (version == wire::kEcsVersion) return "ecs";
  if (version == wire::kKmsVersion) return "kms";
  if (version == wire::kResourceSharingVersion) return "resourcesharing";
  if (version == wire::kResourceManagerVersion) return "resourcemanager";
  return std::nullopt;
}

bool action_exists(std::string_view product, std::string_view action) {
  const auto& table = catalogue();
  const auto it = table.find(product);
  return it != table.end() && it->second.count(action) > 0;
}

std::string pct_encode(std::string_view raw) {
  std::string out;
  out.reserve(raw.size() * 3);
  for (const char ch : raw) {
    const auto c = static_cast<unsigned char>(ch);
    if (is_unreserved(c)) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0x0f]);
    }
  }
  return out;
}

std::string form_decode(std::string_view encoded) {
  std::string out;
  out.reserve(encoded.size());
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    const char c = encoded[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%' && i + 2 < encoded.size() && hex_value(encoded[i + 1]) >= 0 &&
               hex_value(encoded[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(encoded[i + 1]) * 16 + hex_value(encoded[i + 2])));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> parse_form(std::string_view encoded) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!encoded.empty()) {
    const auto amp = encoded.find('&');
    const std::string_view item = encoded.substr(0, amp);
    encoded = amp == std::string_view::npos ? std::string_view{} : encoded.substr(amp + 1);
    if (item.empty()) continue;
    const auto eq = item.find('=');
    if (eq == std::string_view::npos) {
      out.emplace_back(form_decode(item), std::string{});
    } else {
      out.emplace_back(form_decode(item.substr(0, eq)), form_decode(item.substr(eq + 1)));
    }
  }
  return out;
}

std::optional<Clock::time_point> parse_timestamp(std::string_view text) {
  // yyyy-MM-ddTHH:mm:ssZ, exactly 20 characters.
  if (text.size() != 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
      text[16] != ':' || text[19] != 'Z') {
    return std::nullopt;
  }
  auto number = [&](std::size_t at, std::size_t len) -> int {
    int value = 0;
    for (std::size_t i = at; i < at + len; ++i) {
      if (text[i] < '0' || text[i] > '9') return -1;
      value = value * 10 + (text[i] - '0');
    }
    return value;
  };
  const int year = number(0, 4), month = number(5, 2), day = number(8, 2);
  const int hour = number(11, 2), minute = number(14, 2), second = number(17, 2);
  if (year < 0 || month < 1 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 ||
      second < 0 || second > 60) {
    return std::nullopt;
  }
  const std::chrono::year_month_day date{std::chrono::year{year},
                                         std::chrono::month{static_cast<unsigned>(month)},
                                         std::chrono::day{static_cast<unsigned>(day)}};
  if (!date.ok()) return std::nullopt;
  const std::chrono::sys_seconds at = std::chrono::sys_days{date} + std::chrono::hours{hour} +
                                      std::chrono::minutes{minute} + std::chrono::seconds{second};
  // Clock counts nanoseconds in 64 bits (years 1678 to 2262): a well-formed timestamp outside
  // that range is as far off as the clock can say (so it is "expired"), never an overflow (found
  // by emulator_request_fuzzer: year 1325 overflowed the conversion).
  using Seconds = std::chrono::seconds;
  if (at.time_since_epoch() <
      std::chrono::duration_cast<Seconds>(Clock::time_point::min().time_since_epoch()) + Seconds{1})
    return Clock::time_point::min();
  if (at.time_since_epoch() >
      std::chrono::duration_cast<Seconds>(Clock::time_point::max().time_since_epoch()) - Seconds{1})
    return Clock::time_point::max();
  return std::chrono::time_point_cast<Clock::duration>(at);
}

std::string format_timestamp(Clock::time_point time) {
  const auto seconds = std::chrono::floor<std::chrono::seconds>(time);
  const auto days = std::chrono::floor<std::chrono::days>(seconds);
  const std::chrono::year_month_day date{days};
  const std::chrono::hh_mm_ss clock{seconds - days};
  char out[32];
  std::snprintf(out, sizeof out, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<int>(clock.hours().count()), static_cast<int>(clock.minutes().count()),
                static_cast<int>(clock.seconds().count()));
  return out;
}

std::string sha256_hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  EVP_Digest(data.data(), data.size(), digest.data(), &size, EVP_sha256(), nullptr);
  return hex_encode(digest.data(), size);
}

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest.data(), &size);
  return hex_encode(digest.data(), size);
}

std::string hmac_sha1_base64(std::string_view key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest.data(), &size);
  std::array<unsigned char, 4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1> out{};
  const int length = EVP_EncodeBlock(out.data(), digest.data(), static_cast<int>(size));
  return {reinterpret_cast<const char*>(out.data()), static_cast<std::size_t>(length)};
}

std::string v1_string_to_sign(std::string_view method,
                              const std::map<std::string, std::string>& params) {
  // std::map iterates in byte order of the (decoded) names, which is the order V1 wants.
  std::string canonical;
  for (const auto& [name, value] : params) {
    if (!canonical.empty()) canonical.push_back('&');
    canonical += pct_encode(name);
    canonical.push_back('=');
    canonical += pct_encode(value);
  }
  return std::string(method) + "&" + pct_encode("/") + "&" + pct_encode(canonical);
}

Verifier::Verifier(KeyLookup lookup, VerifierOptions options)
    : lookup_(std::move(lookup)), options_(options) {}

void Verifier::clear_nonces() {
  std::lock_guard lock(nonce_mutex_);
  nonces_.clear();
  nonce_expiry_.clear();
}

std::size_t Verifier::nonce_count() const {
  std::lock_guard lock(nonce_mutex_);
  return nonces_.size();
}

void Verifier::forget_expired_nonces(Clock::time_point now) {
  // A nonce only needs remembering while its timestamp is still inside the window: after that the
  // window check rejects a replay on its own.
  while (!nonce_expiry_.empty() && nonce_expiry_.begin()->first <= now) {
    nonces_.erase(nonce_expiry_.begin()->second);
    nonce_expiry_.erase(nonce_expiry_.begin());
  }
}

bool Verifier::remember_nonce(const std::string& key, Clock::time_point request_time,
                              Clock::time_point now) {
  std::lock_guard lock(nonce_mutex_);
  forget_expired_nonces(now);
  if (nonces_.count(key) > 0) return false;
  while (nonces_.size() >= options_.max_nonces && !nonce_expiry_.empty()) {
    nonces_.erase(nonce_expiry_.begin()->second);
    nonce_expiry_.erase(nonce_expiry_.begin());
  }
  const Clock::time_point forget_after = request_time + options_.window;
  nonces_.emplace(key, forget_after);
  nonce_expiry_.emplace(forget_after, key);
  return true;
}

Verification Verifier::verify(const GatewayRequest& request, Clock::time_point now) {
  static const std::map<std::string, std::string> kNoHeaders;
  const auto& headers = request.headers != nullptr ? *request.headers : kNoHeaders;
  {
    std::lock_guard lock(nonce_mutex_);
    forget_expired_nonces(now);
  }
  Verification v;
  auto fail = [&v](int status, std::string_view code, std::string message) -> Verification {
    v.ok = false;
    v.status = status;
    v.code = std::string(code);
    v.message = std::move(message);
    return std::move(v);
  };

  if (request.method != "GET" && request.method != "POST") {
    return fail(405, "UnsupportedHTTPMethod",
                "The HTTP method " + std::string(request.method) + " is not supported.");
  }
  const auto question = request.target.find('?');
  const std::string_view path = request.target.substr(0, question);
  const std::string_view query =
      question == std::string_view::npos ? std::string_view{} : request.target.substr(question + 1);
  // Every product we emulate is RPC style: the operation is named by the action, the path is "/".
  if (path != "/") {
    return fail(404, "InvalidAction.NotFound",
                "Specified api is not found, please check your url and method.");
  }

  // Query first, then the form body; a name given twice keeps its first value.
  std::map<std::string, std::string> query_params;
  for (auto& [name, value] : parse_form(query)) query_params.emplace(name, value);
  v.params = query_params;
  const std::string content_type = to_lower(header_value(headers, "content-type"));
  if (content_type.rfind("application/x-www-form-urlencoded", 0) == 0) {
    for (auto& [name, value] : parse_form(request.body)) v.params.emplace(name, value);
  }

  v.version = header_value(headers, wire::kHeaderVersion);
  if (v.version.empty()) v.version = find_param(v.params, "Version");
  v.action = header_value(headers, wire::kHeaderAction);
  if (v.action.empty()) v.action = find_param(v.params, "Action");
  if (v.version.empty()) return fail(400, "MissingParameter", missing_parameter("Version"));
  const auto product = product_for_version(v.version);
  if (!product && options_.check_catalogue) {
    return fail(400, "InvalidVersion", "Specified parameter Version is not valid.");
  }
  v.product = std::string(product.value_or(""));
  if (v.action.empty()) return fail(400, "MissingParameter", missing_parameter("Action"));
  if (options_.check_catalogue && !action_exists(v.product, v.action)) {
    return fail(404, "InvalidAction.NotFound",
                "Specified api is not found, please check your url and method.");
  }

  auto check_time = [&](std::string_view name, const std::string& text,
                        Clock::time_point& parsed) -> std::optional<Verification> {
    if (text.empty()) return fail(400, "MissingParameter", missing_parameter(name));
    const auto time = parse_timestamp(text);
    if (!time) {
      return fail(400, "InvalidTimeStamp.Format",
                  "Specified time stamp or date value is not well formatted.");
    }
    if (*time > now + options_.window || *time < now - options_.window) {
      return fail(400, "InvalidTimeStamp.Expired",
                  "Specified time stamp or date value is expired.");
    }
    parsed = *time;
    return std::nullopt;
  };

  // STS credentials: the token must come with its key, match it, and not have expired.
  auto check_token = [&](const KeyRecord& key,
                         const std::string& supplied) -> std::optional<Verification> {
    const bool temporary =
        key.security_token.has_value() || key.access_key_id.rfind("STS.", 0) == 0;
    if (!temporary) {
      if (!supplied.empty()) {
        return fail(400, "InvalidSecurityToken.MismatchWithAccessKey",
                    "Specified SecurityToken mismatch with the AccessKey.");
      }
      return std::nullopt;
    }
    if (supplied.empty()) {
      return fail(400, "InvalidSecurityToken.Malformed",
                  "A SecurityToken is required for STS credentials.");
    }
    if (key.expires && now >= *key.expires) {
      return fail(400, "InvalidSecurityToken.Expired", "Specified SecurityToken is expired.");
    }
    if (!key.security_token || !equal_secret(*key.security_token, supplied)) {
      return fail(400, "InvalidSecurityToken.MismatchWithAccessKey",
                  "Specified SecurityToken mismatch with the AccessKey.");
    }
    return std::nullopt;
  };

  auto lookup_key = [&](const std::string& id) {
    return lookup_ ? lookup_(id, now) : std::nullopt;
  };
  auto accept = [&](const KeyRecord& key) {
    v.ok = true;
    v.status = 200;
    v.caller.anonymous = false;
    v.caller.account_uid = key.account_uid;
    v.caller.access_key_id = key.access_key_id;
    v.caller.arn = key.arn;
    v.caller.identity_type = key.identity_type;
    return std::move(v);
  };

  const std::string authorization = header_value(headers, "authorization");
  if (!authorization.empty()) {
    if (authorization.rfind("ACS3-", 0) != 0) {
      return fail(400, "IncompleteSignature",
                  "The request signature does not conform to Aliyun standards: unsupported "
                  "Authorization scheme.");
    }
    v.signature = SignatureVersion::kV3;
    const auto auth = parse_authorization(authorization);
    if (!auth) {
      return fail(400, "IncompleteSignature",
                  "The request signature does not conform to Aliyun standards: Authorization needs "
                  "Credential, SignedHeaders and Signature.");
    }
    if (auth->algorithm != wire::kV3Algorithm) {
      return fail(400, "IncompleteSignature",
                  "The signature algorithm " + auth->algorithm + " is not supported.");
    }
    const std::string date = header_value(headers, wire::kHeaderDate);
    const std::string nonce = header_value(headers, wire::kHeaderNonce);
    const std::string content_sha = header_value(headers, wire::kHeaderContentSha256);
    if (nonce.empty()) return fail(400, "MissingParameter", missing_parameter(wire::kHeaderNonce));
    if (content_sha.empty()) {
      return fail(400, "MissingParameter", missing_parameter(wire::kHeaderContentSha256));
    }

    // SignedHeaders must cover host and every x-acs-* header sent (the token and key id among
    // them), and name only headers that were sent.
    std::set<std::string> signed_names;
    {
      std::string_view list = auth->signed_headers;
      while (!list.empty()) {
        const auto semi = list.find(';');
        const std::string name = to_lower(trim(list.substr(0, semi)));
        list = semi == std::string_view::npos ? std::string_view{} : list.substr(semi + 1);
        if (!name.empty()) signed_names.insert(name);
      }
    }
    for (const auto& name : signed_names) {
      if (headers.count(name) == 0) {
        return fail(400, "IncompleteSignature",
                    "The signed header " + name + " is missing from the request.");
      }
    }
    for (const auto& [name, value] : headers) {
      if ((name == "host" || name.rfind("x-acs-", 0) == 0) && signed_names.count(name) == 0) {
        return fail(400, "IncompleteSignature", "The header " + name + " must be signed.");
      }
    }

    if (!iequals(content_sha, sha256_hex(request.body))) {
      return fail(400, "SignatureDoesNotMatch",
                  "The x-acs-content-sha256 header does not match the request body.");
    }
    Clock::time_point request_time;
    if (auto error = check_time(wire::kHeaderDate, date, request_time)) return std::move(*error);

    const auto key = lookup_key(auth->credential);
    if (!key) return fail(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.");
    const std::string header_key_id = header_value(headers, wire::kHeaderAccessKeyId);
    if (!header_key_id.empty() && header_key_id != auth->credential) {
      return fail(400, "InvalidSecurityToken.MismatchWithAccessKey",
                  "The x-acs-accesskey-id header does not match the Credential.");
    }
    if (auto error = check_token(*key, header_value(headers, wire::kHeaderSecurityToken))) {
      return std::move(*error);
    }

    // Canonical request from the decoded query re-encoded (never the wire string): §1.3.
    std::string canonical = std::string(request.method) + "\n/\n";
    bool first = true;
    for (const auto& [name, value] : query_params) {
      if (!first) canonical.push_back('&');
      first = false;
      canonical += pct_encode(name);
      canonical.push_back('=');
      canonical += pct_encode(value);
    }
    canonical.push_back('\n');
    for (const auto& name : signed_names) {
      canonical += name;
      canonical.push_back(':');
      canonical += trim(headers.at(name));
      canonical.push_back('\n');
    }
    canonical.push_back('\n');
    canonical += auth->signed_headers;
    canonical.push_back('\n');
    canonical += content_sha;
    const std::string string_to_sign =
        std::string(wire::kV3Algorithm) + "\n" + sha256_hex(canonical);
    if (!equal_secret(to_lower(auth->signature), hmac_sha256_hex(key->secret, string_to_sign))) {
      return fail(400, "SignatureDoesNotMatch",
                  "The request signature does not conform to Aliyun standards. server string to "
                  "sign is:" +
                      string_to_sign);
    }
    if (!remember_nonce(key->access_key_id + "\n" + nonce, request_time, now)) {
      return fail(400, "SignatureNonceUsed", "Specified signature nonce was used already.");
    }
    return accept(*key);
  }

  if (v.params.count("Signature") > 0) {
    v.signature = SignatureVersion::kV1;
    for (const std::string_view name :
         {"AccessKeyId", "SignatureMethod", "SignatureVersion", "SignatureNonce", "Timestamp"}) {
      if (find_param(v.params, name).empty()) {
        return fail(400, "MissingParameter", missing_parameter(name));
      }
    }
    if (find_param(v.params, "SignatureMethod") != wire::kV1SignatureMethod ||
        find_param(v.params, "SignatureVersion") != wire::kV1SignatureVersion) {
      return fail(400, "IncompleteSignature",
                  "Only SignatureMethod HMAC-SHA1 with SignatureVersion 1.0 is supported.");
    }
    Clock::time_point request_time;
    if (auto error = check_time("Timestamp", find_param(v.params, "Timestamp"), request_time)) {
      return std::move(*error);
    }
    const std::string key_id = find_param(v.params, "AccessKeyId");
    const auto key = lookup_key(key_id);
    if (!key) return fail(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.");
    const std::string token = find_param(v.params, "SecurityToken");
    if (auto error = check_token(*key, token)) return std::move(*error);

    std::map<std::string, std::string> signed_params = v.params;
    const std::string signature = signed_params["Signature"];
    signed_params.erase("Signature");
    const std::string string_to_sign = v1_string_to_sign(request.method, signed_params);
    if (!equal_secret(signature, hmac_sha1_base64(key->secret + "&", string_to_sign))) {
      return fail(400, "SignatureDoesNotMatch",
                  "Specified signature is not matched with our calculation. server string to sign "
                  "is:" +
                      redact_token(string_to_sign, token));
    }
    if (!remember_nonce(key->access_key_id + "\n" + find_param(v.params, "SignatureNonce"),
                        request_time, now)) {
      return fail(400, "SignatureNonceUsed", "Specified signature nonce was used already.");
    }
    return accept(*key);
  }

  // Anonymous: only the two federation actions, whose proof is the OIDC token or SAML assertion.
  if (v.product == "sts" &&
      (v.action == "AssumeRoleWithOIDC" || v.action == "AssumeRoleWithSAML")) {
    const std::string timestamp = find_param(v.params, "Timestamp");
    if (!timestamp.empty()) {
      Clock::time_point request_time;
      if (auto error = check_time("Timestamp", timestamp, request_time)) return std::move(*error);
      const std::string nonce = find_param(v.params, "SignatureNonce");
      if (!nonce.empty() && !remember_nonce("anonymous\n" + nonce, request_time, now)) {
        return fail(400, "SignatureNonceUsed", "Specified signature nonce was used already.");
      }
    }
    v.ok = true;
    v.status = 200;
    v.caller.anonymous = true;
    return v;
  }
  if (v.params.count("AccessKeyId") > 0) {
    return fail(400, "MissingParameter", missing_parameter("Signature"));
  }
  return fail(400, "MissingParameter", missing_parameter("AccessKeyId"));
}

}  // namespace sharekeeper::emulator
