#pragma once
// Secret scrubbing for every text that leaves cloud/ (error messages, log lines, observer output).
// Two layers: patterns (values after AccessKeySecret / SecurityToken / Signature / AccessKeyId
// keys, the Authorization and x-acs-security-token headers, query strings of URLs) and a registry
// of the exact secret strings in use, so a secret is caught even where no pattern announces it.
//
// Thread-safe: the registry is guarded; scrub() may run concurrently with register_secret().
#include <string>
#include <string_view>

namespace sharekeeper::cloud::redact {

// What replaces a scrubbed value.
inline constexpr std::string_view kMask = "***";

// Remembers `secret` (and its percent-encoded and JSON-escaped spellings) so scrub() masks it
// anywhere. Strings shorter than kMinSecretLength are ignored (masking "ab" everywhere would shred
// the text, and no real key, secret or token is that short). The registry keeps the most recent
// kMaxSecrets entries: STS tokens rotate hourly and an old one must not make scrubbing ever slower.
inline constexpr std::size_t kMinSecretLength = 6;
inline constexpr std::size_t kMaxSecrets = 256;
void register_secret(std::string_view secret);
// For tests: forget every registered secret.
void clear_registered_secrets();

// Full scrub: registered secrets, key=value / header patterns, and the query string of every URL
// ("https://h/p?a=b" -> "https://h/p?***", "/?a=b" -> "/?***").
std::string scrub(std::string_view text);

// Registered secrets and key=value / header patterns only; URL query strings are kept. For fields
// such as Alibaba's `Recommend` ("https://api.aliyun.com/troubleshoot?q=<Code>...") whose query is
// the point.
std::string scrub_keep_urls(std::string_view text);

}  // namespace sharekeeper::cloud::redact
