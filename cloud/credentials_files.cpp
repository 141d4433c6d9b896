// File-based providers (aliyun CLI ~/.aliyun/config.json, INI ~/.alibabacloud/credentials), the
// `profile` source and the official default chain (docs/alibaba-api.md §8).
#include <map>
#include <nlohmann/json.hpp>

#include "cloud/credential_providers.hpp"
#include "cloud/credentials_internal.hpp"

namespace sharekeeper::cloud {

using Json = nlohmann::json;
using namespace credentials_internal;

namespace {

// A ChainableRamRoleArn profile may name another chainable one; profiles that loop are a config
// error, not a stack overflow.
constexpr int kMaxProfileDepth = 5;

using ProviderPtr = std::shared_ptr<CredentialsProvider>;

std::string json_text(const Json& obj, const char* key) {
  const auto it = obj.find(key);
  if (it == obj.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return std::to_string(it->get<long long>());
  if (it->is_boolean()) return it->get<bool>() ? "true" : "false";
  return "";
}

std::chrono::seconds seconds_or(const std::string& text, std::chrono::seconds fallback) {
  if (text.empty()) return fallback;
  try {
    const long long v = std::stoll(text);
    return v > 0 ? std::chrono::seconds(v) : fallback;
  } catch (const std::exception&) {
    return fallback;
  }
}

Error invalid(std::string_view provider, const std::string& what) {
  return error(provider, "Credentials.Invalid", ErrorClass::kTerminal, what);
}

Error not_configured(std::string_view provider, const std::string& what) {
  return error(provider, "Credentials.NotConfigured", ErrorClass::kTerminal, what);
}

ProviderPtr static_keys(std::string id, std::string secret, std::string token) {
  Credentials c;
  c.access_key_id = std::move(id);
  c.access_key_secret = std::move(secret);
  c.security_token = std::move(token);
  return std::make_shared<StaticCredentialsProvider>(std::move(c));
}

Result<ProviderPtr> from_cli_profile(const Json& config, const std::string& name,
                                     const CredentialsDeps& deps, int depth) {
  constexpr std::string_view kWho = "cli_profile";
  if (depth > kMaxProfileDepth) return invalid(kWho, "source_profile chain too deep at " + name);
  const Json* profile = nullptr;
  if (const auto it = config.find("profiles"); it != config.end() && it->is_array()) {
    for (const auto& p : *it) {
      if (p.is_object() && json_text(p, "name") == name) profile = &p;
    }
  }
  if (profile == nullptr) {
    return not_configured(kWho, "no profile \"" + name + "\" in ~/.aliyun/config.json");
  }
  const Json& p = *profile;
  std::string mode = json_text(p, "mode");
  if (mode.empty()) mode = "AK";
  StsRoleOptions role;
  role.role_arn = json_text(p, "ram_role_arn");
  role.role_session_name = json_text(p, "ram_session_name");
  if (role.role_session_name.empty()) role.role_session_name = "sharekeeper";
  role.region = json_text(p, "sts_region");
  role.endpoint = json_text(p, "sts_endpoint");
  role.vpc = json_text(p, "enable_vpc") == "true";
  role.external_id = json_text(p, "external_id");

  const std::string id = json_text(p, "access_key_id");
  const std::string secret = json_text(p, "access_key_secret");
  const auto need_keys = [&]() -> Result<void> {
    if (id.empty() || secret.empty()) {
      return invalid(kWho, "profile \"" + name + "\" (" + mode +
                               ") needs access_key_id and access_key_secret");
    }
    return {};
  };
  if (mode == "AK") {
    SK_TRY_VOID(need_keys());
    return static_keys(id, secret, "");
  }
  if (mode == "StsToken") {
    SK_TRY_VOID(need_keys());
    return static_keys(id, secret, json_text(p, "sts_token"));
  }
  if (mode == "RamRoleArn") {
    SK_TRY_VOID(need_keys());
    if (role.role_arn.empty()) return invalid(kWho, "profile \"" + name + "\" needs ram_role_arn");
    role.duration = seconds_or(json_text(p, "expired_seconds"), std::chrono::seconds(3600));
    return ProviderPtr(
        std::make_shared<AssumeRoleCredentialsProvider>(static_keys(id, secret, ""), role, deps));
  }
  if (mode == "EcsRamRole") {
    return ProviderPtr(std::make_shared<EcsRamRoleCredentialsProvider>(
        json_text(p, "ram_role_name"), env_true(deps.env, "ALIBABA_CLOUD_IMDSV1_DISABLED"), deps));
  }
  if (mode == "OIDC") {
    const std::string provider_arn = json_text(p, "oidc_provider_arn");
    const std::string token_file = json_text(p, "oidc_token_file");
    if (role.role_arn.empty() || provider_arn.empty() || token_file.empty()) {
      return invalid(kWho, "profile \"" + name +
                               "\" needs ram_role_arn, oidc_provider_arn and oidc_token_file");
    }
    role.duration = seconds_or(json_text(p, "duration_seconds"), std::chrono::seconds(3600));
    return ProviderPtr(
        std::make_shared<OidcCredentialsProvider>(provider_arn, token_file, role, deps));
  }
  if (mode == "ChainableRamRoleArn") {
    const std::string source_name = json_text(p, "source_profile");
    if (source_name.empty() || role.role_arn.empty()) {
      return invalid(kWho, "profile \"" + name + "\" needs source_profile and ram_role_arn");
    }
    auto source = from_cli_profile(config, source_name, deps, depth + 1);
    if (!source.ok()) return source.error();
    role.duration = seconds_or(json_text(p, "expired_seconds"), std::chrono::seconds(3600));
    return ProviderPtr(std::make_shared<AssumeRoleCredentialsProvider>(source.value(), role, deps));
  }
  // CloudSSO, OAuth and External need browser flows or run commands: out of scope for a daemon.
  return invalid(kWho, "profile \"" + name + "\" has unsupported mode " + mode);
}

using Ini = std::map<std::string, std::map<std::string, std::string>>;

Ini parse_ini(std::string_view text) {
  Ini out;
  std::string section;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    const std::string line = trim(text.substr(pos, nl - pos));
    pos = nl + 1;
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      section = trim(std::string_view(line).substr(1, line.size() - 2));
      out[section];
      continue;
    }
    const auto eq = line.find('=');
    if (eq == std::string::npos || section.empty()) continue;
    std::string value = trim(std::string_view(line).substr(eq + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    }
    out[section][trim(std::string_view(line).substr(0, eq))] = value;
  }
  return out;
}

Result<ProviderPtr> from_ini_section(const std::map<std::string, std::string>& s,
                                     const std::string& section, const CredentialsDeps& deps) {
  constexpr std::string_view kWho = "profile";
  const auto get = [&s](const char* key) -> std::string {
    const auto it = s.find(key);
    return it == s.end() ? "" : it->second;
  };
  const std::string type = get("type");
  StsRoleOptions role;
  role.role_arn = get("role_arn");
  role.role_session_name = get("role_session_name");
  if (role.role_session_name.empty()) role.role_session_name = "sharekeeper";
  role.policy = get("policy");
  role.external_id = get("external_id");
  role.region = get("sts_region");
  if (type == "access_key" || type == "ram_role_arn") {
    const std::string id = get("access_key_id");
    const std::string secret = get("access_key_secret");
    if (id.empty() || secret.empty()) {
      return invalid(kWho, "[" + section + "] needs access_key_id and access_key_secret");
    }
    if (type == "access_key") return static_keys(id, secret, "");
    if (role.role_arn.empty()) return invalid(kWho, "[" + section + "] needs role_arn");
    return ProviderPtr(
        std::make_shared<AssumeRoleCredentialsProvider>(static_keys(id, secret, ""), role, deps));
  }
  if (type == "ecs_ram_role") {
    return ProviderPtr(std::make_shared<EcsRamRoleCredentialsProvider>(
        get("role_name"), env_true(deps.env, "ALIBABA_CLOUD_IMDSV1_DISABLED"), deps));
  }
  if (type == "oidc_role_arn") {
    const std::string provider_arn = get("oidc_provider_arn");
    std::string token_file = get("oidc_token_file_path");
    if (token_file.empty()) token_file = get("oidc_token_file");
    if (role.role_arn.empty() || provider_arn.empty() || token_file.empty()) {
      return invalid(
          kWho, "[" + section + "] needs role_arn, oidc_provider_arn and oidc_token_file_path");
    }
    return ProviderPtr(
        std::make_shared<OidcCredentialsProvider>(provider_arn, token_file, role, deps));
  }
  return invalid(kWho, "[" + section + "] has unsupported type \"" + type + "\"");
}

// An inner provider's answer as the outer one's: the credentials named "<outer>/<inner>", an error
// wrapped with the outer name.
Result<Credentials> as_outer(Result<Credentials> r, const std::string& outer) {
  if (!r.ok()) return wrap(r.error(), outer);
  Credentials c = std::move(r).value();
  c.provider = outer + "/" + c.provider;
  return c;
}

// The first provider that answers is kept for good (the SDK's lastUsedProvider).
class StickyChain final : public CredentialsProvider {
 public:
  StickyChain(std::string name, std::vector<ProviderPtr> providers)
      : name_(std::move(name)), providers_(std::move(providers)) {}

  Result<Credentials> get() override {
    std::lock_guard lock(mu_);
    if (chosen_) return as_outer(chosen_->get(), name_);
    std::string tried;
    for (const auto& p : providers_) {
      auto r = p->get();
      if (r.ok()) {
        chosen_ = p;
        return as_outer(std::move(r), name_);
      }
      tried +=
          (tried.empty() ? "" : "; ") + p->name() + ": " + r.error().code + " " + r.error().message;
    }
    return error(name_, "Credentials.NotFound", ErrorClass::kTerminal,
                 "no credentials provider answered (" + tried + ")");
  }
  std::string name() const override { return name_; }
  void invalidate() override {
    std::lock_guard lock(mu_);
    if (chosen_) chosen_->invalidate();
  }

 private:
  std::string name_;
  std::vector<ProviderPtr> providers_;
  std::mutex mu_;
  ProviderPtr chosen_;
};

}  // namespace

// ---- CLI profile

CliProfileCredentialsProvider::CliProfileCredentialsProvider(std::string profile,
                                                             CredentialsDeps deps)
    : profile_(std::move(profile)), deps_(basic_defaults(std::move(deps))) {}

Result<Credentials> CliProfileCredentialsProvider::get() {
  ProviderPtr inner;
  {
    std::lock_guard lock(mu_);
    if (!inner_) {
      const std::string path = deps_.home_dir + "/.aliyun/config.json";
      const auto text = deps_.home_dir.empty() ? std::nullopt : read_file(path);
      if (!text) return not_configured(name(), "no ~/.aliyun/config.json");
      const Json config = Json::parse(*text, nullptr, /*allow_exceptions=*/false);
      if (config.is_discarded() || !config.is_object()) {
        return invalid(name(), "~/.aliyun/config.json is not a JSON object");
      }
      std::string profile = profile_;
      if (profile.empty()) profile = env_or(deps_.env, "ALIBABA_CLOUD_PROFILE", "");
      if (profile.empty()) profile = json_text(config, "current");
      if (profile.empty()) profile = "default";
      auto built = from_cli_profile(config, profile, deps_, 0);
      if (!built.ok()) return built.error();
      inner_ = built.value();
    }
    inner = inner_;
  }
  return as_outer(inner->get(), name());
}

void CliProfileCredentialsProvider::invalidate() {
  std::lock_guard lock(mu_);
  if (inner_) inner_->invalidate();
}

// ---- Credentials file

CredentialsFileProvider::CredentialsFileProvider(std::string profile, CredentialsDeps deps)
    : profile_(std::move(profile)), deps_(basic_defaults(std::move(deps))) {}

Result<Credentials> CredentialsFileProvider::get() {
  ProviderPtr inner;
  {
    std::lock_guard lock(mu_);
    if (!inner_) {
      const auto env_path = deps_.env("ALIBABA_CLOUD_CREDENTIALS_FILE");
      const bool explicit_path = env_path && !trim(*env_path).empty();
      const std::string path =
          explicit_path ? trim(*env_path) : deps_.home_dir + "/.alibabacloud/credentials";
      const auto text = !explicit_path && deps_.home_dir.empty() ? std::nullopt : read_file(path);
      if (!text) {
        if (explicit_path) {
          return invalid(name(), "ALIBABA_CLOUD_CREDENTIALS_FILE names a missing file " + path);
        }
        return not_configured(name(), "no ~/.alibabacloud/credentials");
      }
      std::string section = profile_;
      if (section.empty()) section = env_or(deps_.env, "ALIBABA_CLOUD_PROFILE", "default");
      const Ini ini = parse_ini(*text);
      const auto it = ini.find(section);
      if (it == ini.end()) {
        return not_configured(name(), "no [" + section + "] in the credentials file");
      }
      auto built = from_ini_section(it->second, section, deps_);
      if (!built.ok()) return built.error();
      inner_ = built.value();
    }
    inner = inner_;
  }
  return as_outer(inner->get(), name());
}

void CredentialsFileProvider::invalidate() {
  std::lock_guard lock(mu_);
  if (inner_) inner_->invalidate();
}

// ---- profile source and the default chain

namespace credentials_internal {

Result<std::shared_ptr<CredentialsProvider>> make_profile_provider(const std::string& profile,
                                                                   const CredentialsDeps& deps) {
  if (profile.empty()) return invalid("profile", "profile name is required");
  return ProviderPtr(std::make_shared<StickyChain>(
      "profile",
      std::vector<ProviderPtr>{std::make_shared<CliProfileCredentialsProvider>(profile, deps),
                               std::make_shared<CredentialsFileProvider>(profile, deps)}));
}

}  // namespace credentials_internal

DefaultCredentialsChain::DefaultCredentialsChain(CredentialsDeps in) {
  const CredentialsDeps deps = basic_defaults(std::move(in));
  const EnvLookup& env = deps.env;
  std::vector<ProviderPtr> providers;
  providers.push_back(std::make_shared<EnvCredentialsProvider>(env, "ALIBABA_CLOUD_ACCESS_KEY_ID",
                                                               "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
                                                               "ALIBABA_CLOUD_SECURITY_TOKEN"));
  const std::string role_arn = env_or(env, "ALIBABA_CLOUD_ROLE_ARN", "");
  const std::string provider_arn = env_or(env, "ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "");
  const std::string token_file = env_or(env, "ALIBABA_CLOUD_OIDC_TOKEN_FILE", "");
  if (!role_arn.empty() && !provider_arn.empty() && !token_file.empty()) {
    StsRoleOptions role;
    role.role_arn = role_arn;
    role.role_session_name = env_or(env, "ALIBABA_CLOUD_ROLE_SESSION_NAME", "sharekeeper");
    role.region = env_or(env, "ALIBABA_CLOUD_STS_REGION", "");
    role.vpc = env_true(env, "ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED");
    providers.push_back(
        std::make_shared<OidcCredentialsProvider>(provider_arn, token_file, role, deps));
  }
  if (!env_true(env, "ALIBABA_CLOUD_CLI_PROFILE_DISABLED")) {
    providers.push_back(std::make_shared<CliProfileCredentialsProvider>("", deps));
  }
  providers.push_back(std::make_shared<CredentialsFileProvider>("", deps));
  if (!env_true(env, "ALIBABA_CLOUD_ECS_METADATA_DISABLED")) {
    providers.push_back(std::make_shared<EcsRamRoleCredentialsProvider>(
        env_or(env, "ALIBABA_CLOUD_ECS_METADATA", ""),
        env_true(env, "ALIBABA_CLOUD_IMDSV1_DISABLED"), deps));
  }
  if (const std::string uri = env_or(env, "ALIBABA_CLOUD_CREDENTIALS_URI", ""); !uri.empty()) {
    providers.push_back(std::make_shared<CredentialsUriProvider>(uri, deps));
  }
  chain_ = std::make_shared<StickyChain>("default", std::move(providers));
}

Result<Credentials> DefaultCredentialsChain::get() { return chain_->get(); }
void DefaultCredentialsChain::invalidate() { chain_->invalidate(); }

}  // namespace sharekeeper::cloud
