#pragma once
// Helpers shared by credential_providers.cpp and credentials_files.cpp. Not a public interface.
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "cloud/credential_providers.hpp"

namespace sharekeeper::cloud::credentials_internal {

// product "credentials", action = provider name; the message is scrubbed.
Error error(std::string_view provider, std::string code, ErrorClass cls,
            const std::string& message);
// Prefixes the message with the provider so a chain's error says who failed.
Error wrap(Error e, std::string_view provider);
std::string trim(std::string_view s);
bool env_true(const EnvLookup& env, std::string_view name);  // "true", any case
std::string env_or(const EnvLookup& env, std::string_view name, std::string fallback);
std::optional<std::string> read_file(const std::string& path);
// Fills the clock, environment, home directory and nonce when empty (not the transports: only
// complete_deps() creates those).
CredentialsDeps basic_defaults(CredentialsDeps deps);
std::string sts_url(const CredentialsDeps& deps, const StsRoleOptions& role);

// source: profile — the CLI profile NAME when ~/.aliyun/config.json has one, else the credentials
// file section NAME.
Result<std::shared_ptr<CredentialsProvider>> make_profile_provider(const std::string& profile,
                                                                   const CredentialsDeps& deps);

}  // namespace sharekeeper::cloud::credentials_internal
