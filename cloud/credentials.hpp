#pragma once
// Credentials and the provider interface. The chain and the concrete providers are in
// credential_providers.hpp; the AlibabaClient only needs this.
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "cloud/result.hpp"

namespace sharekeeper::cloud {

struct Credentials {
  std::string access_key_id;
  std::string access_key_secret;  // never logged; redact.hpp scrubs it from any text
  std::string security_token;     // empty for long-term access keys
  std::optional<std::chrono::system_clock::time_point> expiration;  // UTC; none for static keys
  std::string
      provider;  // "static_ak", "env", "oidc", "ecs_ram_role", ... (x-acs-credentials-provider)
};

// Thread-safe. get() returns cached credentials and refreshes them when they come within the
// provider's stale window of expiry; a failed refresh keeps the old credentials while they are
// still valid.
class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  virtual Result<Credentials> get() = 0;
  virtual std::string name() const = 0;
  // The server rejected the cached credentials (InvalidSecurityToken.Expired): the next get()
  // fetches anew instead of trusting the cache (keeping the old ones if that fetch fails while they
  // are still valid). No-op for static keys.
  virtual void invalidate() {}
};

}  // namespace sharekeeper::cloud
