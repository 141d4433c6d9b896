#include "config/schema.hpp"

#include <algorithm>
#include <functional>
#include <string_view>

#include "config/formats.hpp"

namespace sharekeeper::config::detail {
namespace {

using Keys = std::vector<std::string_view>;

const Keys kRootKeys = {"apiVersion", "settings", "accounts", "shares"};
const Keys kSettingsKeys = {"interval",
                            "jitter",
                            "prune",
                            "maxRevocationsPerCycle",
                            "maxRevokeFraction",
                            "allowMassRevoke",
                            "instanceName",
                            "allowServiceKeyShares",
                            "manageShares",
                            "manageDiskEncryptRole",
                            "endpoints",
                            "coordination"};
const Keys kEndpointKeys = {"ecs", "ram", "sts", "kms", "resourcesharing"};
const Keys kCoordinationKeys = {"etcd"};
const Keys kEtcdKeys = {"endpoints", "leaseTTL", "prefix",   "caFile",
                        "certFile",  "keyFile",  "username", "passwordFile"};
const Keys kAccountKeys = {"name", "uid", "credentials", "adopt", "protectedPrincipals"};
const Keys kCredentialKeys = {"source",           "accessKeyIdEnv",  "accessKeySecretEnv",
                              "securityTokenEnv", "profile",         "roleName",
                              "roleArn",          "oidcProviderArn", "oidcTokenFile",
                              "externalId",       "roleSessionName", "from"};
const Keys kShareKeys = {"name",      "account",  "region", "images",
                         "snapshots", "selector", "to",     "mode"};
const Keys kSelectorKeys = {"tags"};
const Keys kTargetKeys = {"accounts", "resourceDirectory", "folders"};
const Keys kSources = {"default", "env", "profile", "ecsRamRole", "oidc", "assumeRole"};

constexpr std::size_t kMaxSelectorTags = 20;

// Secrets must never be written in the config (docs/failure-matrix.md §4.1); keys that would hold
// one get a specific error instead of "unknown key", and their values are never echoed.
bool is_secret_key(std::string_view key) {
  std::string k;
  for (char c : key)
    if (c != '_' && c != '-')
      k.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
  for (std::string_view w : {"secret", "password", "passwd", "token", "privatekey", "credential"})
    if (k.find(w) != std::string::npos) return true;
  return k == "accesskeyid" || k == "accesskey" || k == "ak" || k == "sk" || k == "akid";
}

bool is_blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; });
}

std::string shorten(std::string_view s) {
  std::string out(s.substr(0, 64));
  if (s.size() > 64) out += "...";
  return out;
}

std::string_view kind_name(const Node& n) {
  switch (n.kind) {
    case Node::Kind::kNull:
      return "nothing";
    case Node::Kind::kScalar:
      return "a single value";
    case Node::Kind::kSequence:
      return "a list";
    case Node::Kind::kMap:
      return "a mapping";
  }
  return "?";
}

Pos pos_of(const Node& n) { return {n.line, n.column}; }

// ---- settings.coordination value formats (local to the coordination section)

constexpr std::size_t kMaxEtcdEndpoints = 16;

bool etcd_host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

// "https://HOST:PORT" (a trailing "/" allowed): HOST a lower-case DNS name, an IPv4 address or a
// bracketed IPv6 literal; the port is required (etcd has no scheme default: 2379 is a convention).
// Plain http only to a loopback host: an unauthenticated etcd on the network could hand a replica
// an account another replica is writing.
bool is_etcd_endpoint(std::string_view s) {
  const auto url = format::split_http_url(s);
  if (!url || !url->port || !format::is_port(*url->port) || url->port->front() == '0') return false;
  const bool http = url->plain_http;
  const std::string_view host = url->host;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    const std::string_view v6 = host.substr(1, host.size() - 2);
    if (!std::all_of(v6.begin(), v6.end(), [](char c) {
          return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == ':';
        }))
      return false;
    return !http || v6 == "::1";
  }
  if (host.empty() || host.size() > 253 || !std::all_of(host.begin(), host.end(), etcd_host_char))
    return false;
  if (host.front() == '.' || host.front() == '-' || host.back() == '.' || host.back() == '-' ||
      host.find("..") != std::string_view::npos)
    return false;
  return !http || host == "127.0.0.1" || host == "localhost";
}

// "/a/b": absolute, segments of [A-Za-z0-9._-], no empty segment, no trailing "/", at most 200
// characters (every key is the prefix plus a short suffix).
bool is_etcd_prefix(std::string_view s) {
  if (s.size() < 2 || s.size() > 200 || s.front() != '/' || s.back() == '/') return false;
  if (s.find("//") != std::string_view::npos) return false;
  for (std::string_view seg : {std::string_view("/./"), std::string_view("/../")})
    if ((std::string(s) + "/").find(seg) != std::string::npos) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-' || c == '/';
  });
}

// etcd user names: printable, no spaces or quotes (they travel in JSON and in logs).
bool is_etcd_username(std::string_view s) {
  return !s.empty() && s.size() <= 128 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-' || c == '@';
  });
}

class Checker {
 public:
  Checker(const std::string& file, std::vector<Diagnostic>& diags) : file_(file), diags_(diags) {}

  void error(Pos p, std::string message, std::string hint = "") {
    diags_.push_back(make_diagnostic(Severity::kError, file_, p.line, p.column, std::move(message),
                                     std::move(hint)));
  }
  void error(const Node& n, std::string message, std::string hint = "") {
    error(pos_of(n), std::move(message), std::move(hint));
  }
  void warning(const Node& n, std::string message, std::string hint = "") {
    diags_.push_back(make_diagnostic(Severity::kWarning, file_, n.line, n.column,
                                     std::move(message), std::move(hint)));
  }

  // A null value's own mark points past the key (yaml-cpp), so "needs a value" is reported at the
  // key.
  static const Node& where(const Node& key, const Node& value) {
    return value.is_null() ? key : value;
  }

  // Calls f(key, value) for each entry whose key is in `keys`; reports unknown and secret keys.
  void entries(const Node& map, std::string_view context, const Keys& keys,
               const std::function<void(const Node&, const Node&)>& f) {
    for (std::size_t i = 0; i + 1 < map.children.size(); i += 2) {
      const Node& key = map.children[i];
      const Node& value = map.children[i + 1];
      if (!key.is_scalar()) continue;  // reported by the tree builder
      if (std::find(keys.begin(), keys.end(), key.text) != keys.end()) {
        f(key, value);
      } else if (is_secret_key(key.text)) {
        error(key,
              "`" + shorten(key.text) + "` would hold a secret; secrets never belong in the config",
              "say where to find credentials instead, e.g. `source: env` with "
              "`accessKeySecretEnv: ALIBABA_CLOUD_ACCESS_KEY_SECRET`");
      } else {
        error(key, "unknown key `" + shorten(key.text) + "` in " + std::string(context),
              hint_for(key.text, keys));
      }
    }
  }

  std::string hint_for(std::string_view key, const Keys& keys) {
    if (auto c = format::closest(key, keys)) return "did you mean `" + std::string(*c) + "`?";
    for (const auto& [ctx, ks] : schema_keys())
      if (std::find(ks.begin(), ks.end(), key) != ks.end())
        return "`" + std::string(key) + "` belongs in " + ctx;
    std::string all;
    for (auto k : keys) all += (all.empty() ? "" : ", ") + std::string(k);
    return "expected one of: " + all;
  }

  bool expect_map(const Node& key, const Node& value) {
    if (value.is_map()) return true;
    error(where(key, value),
          "`" + key.text + "` must be a mapping, not " + std::string(kind_name(value)));
    return false;
  }

  bool expect_list(const Node& key, const Node& value) {
    if (value.is_sequence()) return true;
    std::string hint = value.is_null()     ? "write `[]` for an empty list"
                       : value.is_scalar() ? "write `[" + shorten(value.text) + "]`"
                                           : "";
    error(where(key, value),
          "`" + key.text + "` must be a list, not " + std::string(kind_name(value)), hint);
    return false;
  }

  // Any scalar, quoted or not, as its exact text. An empty or whitespace-only value is an error
  // for every key read this way (issue 11): `account: ""` once passed as "present" and then
  // matched no account, which turned a typo into a revocation. Plain `~`/`null`/empty are YAML
  // nulls (OnNull), reported as "needs a value". Tag values, the one place an empty string is
  // meaningful, are not read through here.
  std::optional<std::string> text(const Node& key, const Node& value) {
    if (value.is_scalar()) {
      if (!is_blank(value.text)) return value.text;
      error(value, "`" + key.text + "` is " + (value.text.empty() ? "empty" : "only whitespace"),
            "give it a value, or remove the key");
      return std::nullopt;
    }
    if (value.is_null())
      error(key, "`" + key.text + "` needs a value");
    else
      error(value,
            "`" + key.text + "` must be a single value, not " + std::string(kind_name(value)));
    return std::nullopt;
  }

  std::optional<std::string> item_text(const Node& list_key, const Node& item) {
    if (item.is_scalar()) {
      if (!is_blank(item.text)) return item.text;
      error(item,
            std::string("an item of `") + list_key.text + "` is " +
                (item.text.empty() ? "empty" : "only whitespace"),
            "remove it");
      return std::nullopt;
    }
    error(item, "items of `" + list_key.text + "` must be single values, not " +
                    std::string(kind_name(item)));
    return std::nullopt;
  }

  // An account or share name, or a reference to an account (`account`, `from`): the one name
  // format, and never a word YAML reads as null when unquoted (a template that renders an unset
  // variable as "null" must not produce a name that some reference could match).
  std::optional<std::string> name(const Node& key, const Node& value, std::string_view what) {
    auto t = text(key, value);
    if (!t) return std::nullopt;
    if (*t == "null" || *t == "Null" || *t == "NULL") {
      error(value, "`" + key.text + "`: `" + *t + "` is not allowed as " + std::string(what),
            "unquoted it is YAML's null; was a template variable left unset?");
      return std::nullopt;
    }
    if (!format::is_name(*t)) {
      error(value, "`" + shorten(*t) + "` is not " + std::string(what),
            "1-50 letters, digits, `.`, `_` or `-`, starting with a letter or digit");
      return std::nullopt;
    }
    return t;
  }

  std::optional<bool> boolean(const Node& key, const Node& value) {
    auto t = text(key, value);
    if (!t) return std::nullopt;
    if (!value.quoted && (*t == "true" || *t == "false")) return *t == "true";
    if (value.quoted && (*t == "true" || *t == "false"))
      error(value, "`" + key.text + "` must be a boolean, not a quoted string",
            "remove the quotes");
    else
      error(value, "`" + key.text + "` must be `true` or `false`, not `" + shorten(*t) + "`",
            "only the two literal words are booleans here (no yes/no/on/off)");
    return std::nullopt;
  }

  // Plain decimal digits, no sign, no leading zeros, within [min, max].
  std::optional<int> integer(const Node& key, const Node& value, int min, int max) {
    auto t = text(key, value);
    if (!t) return std::nullopt;
    bool digits = !t->empty() && t->size() <= 9 &&
                  std::all_of(t->begin(), t->end(), [](char c) { return c >= '0' && c <= '9'; }) &&
                  (t->size() == 1 || (*t)[0] != '0');
    if (value.quoted || !digits) {
      error(value, "`" + key.text + "` must be a whole number, not `" + shorten(*t) + "`",
            value.quoted ? "remove the quotes" : "");
      return std::nullopt;
    }
    int v = std::stoi(*t);
    if (v < min || v > max) {
      error(value, "`" + key.text + "` must be between " + std::to_string(min) + " and " +
                       std::to_string(max));
      return std::nullopt;
    }
    return v;
  }

  // 0, 1, 0.x or 1.0...: parsed by hand because strtod depends on the locale.
  std::optional<double> fraction(const Node& key, const Node& value, double max) {
    auto t = text(key, value);
    if (!t) return std::nullopt;
    std::string_view s = *t;
    bool ok = !value.quoted && !s.empty() && (s[0] == '0' || s[0] == '1');
    double v = ok ? s[0] - '0' : 0;
    if (ok && s.size() > 1) {
      ok = s[1] == '.' && s.size() > 2 && s.size() <= 8;
      double scale = 0.1;
      for (std::size_t i = 2; ok && i < s.size(); ++i, scale /= 10) {
        ok = s[i] >= '0' && s[i] <= '9';
        v += (s[i] - '0') * scale;
      }
    }
    if (!ok || v > max) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%g", max);
      error(value,
            "`" + key.text + "` must be a number from 0 to " + buf + ", not `" + shorten(*t) + "`",
            value.quoted ? "remove the quotes" : "");
      return std::nullopt;
    }
    return v;
  }

  std::optional<std::string> one_of(const Node& key, const Node& value, const Keys& allowed) {
    auto t = text(key, value);
    if (!t) return std::nullopt;
    if (std::find(allowed.begin(), allowed.end(), *t) != allowed.end()) return t;
    std::string all;
    for (auto a : allowed) all += (all.empty() ? "`" : ", `") + std::string(a) + "`";
    auto c = format::closest(*t, allowed);
    error(value, "`" + key.text + "` must be one of " + all + ", not `" + shorten(*t) + "`",
          c ? "did you mean `" + std::string(*c) + "`?" : "");
    return std::nullopt;
  }

  // A scalar matching `ok`, or an error saying what was expected.
  std::optional<std::string> matching(const Node& key, const Node& value,
                                      bool (*ok)(std::string_view), std::string_view expected) {
    auto t = text(key, value);
    if (!t) return std::nullopt;
    if (ok(*t)) return t;
    error(value, "`" + key.text + "`: `" + shorten(*t) + "` is not " + std::string(expected));
    return std::nullopt;
  }

  void check_uid_item(const Node& list_key, const Node& item, std::vector<Item>& out) {
    auto t = item_text(list_key, item);
    if (!t) return;
    if (!format::is_account_uid(*t)) {
      error(item, "`" + shorten(*t) + "` is not an account UID (16 digits)",
            "quote UIDs: \"1234567890123456\"");
      return;
    }
    out.push_back({*t, pos_of(item)});
  }

  // ---- sections

  Settings settings(const Node& map) {
    Settings s;
    entries(map, "settings", kSettingsKeys, [&](const Node& k, const Node& v) {
      const std::string& n = k.text;
      if (n == "interval") {
        auto t = text(k, v);
        if (!t) return;
        auto d = format::parse_duration(*t);
        if (!d) {
          error(v, "`interval`: `" + shorten(*t) + "` is not a duration",
                "write e.g. `30s`, `5m`, `1h` or `1h30m`");
        } else if (d->count() < 1 || d->count() > 86400) {
          error(v, "`interval` must be between 1s and 24h");
        } else {
          s.interval = *d;
        }
      } else if (n == "jitter") {
        if (auto f = fraction(k, v, 0.5)) s.jitter = *f;
      } else if (n == "prune") {
        if (auto b = boolean(k, v)) s.prune = *b;
      } else if (n == "maxRevocationsPerCycle") {
        if (auto i = integer(k, v, 0, 100000)) s.max_revocations_per_cycle = *i;
      } else if (n == "maxRevokeFraction") {
        if (auto f = fraction(k, v, 1.0)) s.max_revoke_fraction = *f;
      } else if (n == "allowMassRevoke") {
        if (auto b = boolean(k, v)) s.allow_mass_revoke = *b;
      } else if (n == "instanceName") {
        if (auto t = matching(
                k, v, format::is_instance_name,
                "an instance name (1-63 lowercase letters, digits and '-', not starting with "
                "`aliyun` or `acs`)"))
          s.instance_name = *t;
      } else if (n == "allowServiceKeyShares") {
        if (auto b = boolean(k, v)) s.allow_service_key_shares = *b;
      } else if (n == "manageShares") {
        if (auto b = boolean(k, v)) s.manage_shares = *b;
      } else if (n == "manageDiskEncryptRole") {
        if (auto b = boolean(k, v)) s.manage_disk_encrypt_role = *b;
      } else if (n == "endpoints") {
        if (!expect_map(k, v)) return;
        entries(v, "settings.endpoints", kEndpointKeys, [&](const Node& pk, const Node& pv) {
          if (auto url =
                  matching(pk, pv, format::is_endpoint_url,
                           "an endpoint URL (https://HOST[:PORT], HOST may contain `{region}`; "
                           "http:// only for 127.0.0.1 or localhost)"))
            s.endpoints[pk.text] = *url;
        });
      } else if (n == "coordination") {
        s.coordination = coordination(k, v);
      }
    });
    // The default prefix names the instance, so two sharekeeper fleets on one etcd never share
    // keys; resolved here because `instanceName` may come after `coordination` in the mapping.
    if (s.coordination && s.coordination->etcd.prefix.empty())
      s.coordination->etcd.prefix = "/sharekeeper/" + s.instance_name;
    return s;
  }

  // settings.coordination: exactly one backend (etcd today). nullopt when it is unusable (the
  // errors are reported), so a broken block never silently means "one replica".
  std::optional<CoordinationSettings> coordination(const Node& key, const Node& map) {
    if (!expect_map(key, map)) return std::nullopt;
    CoordinationSettings c;
    c.where = {file_, key.line, key.column};
    bool has_etcd = false;
    const auto before = diags_.size();
    entries(map, "settings.coordination", kCoordinationKeys, [&](const Node& k, const Node& v) {
      has_etcd = true;
      if (expect_map(k, v)) etcd(k, v, c.etcd);
    });
    if (!has_etcd)
      error(map.is_null() ? key : map, "`coordination` needs a backend: `etcd`",
            "write `coordination: {etcd: {endpoints: [\"https://etcd-1:2379\"]}}`, or remove "
            "`coordination` to run one replica");
    if (diags_.size() != before) return std::nullopt;
    return c;
  }

  void etcd(const Node& key, const Node& map, EtcdSettings& e) {
    bool has_endpoints = false;
    const Node* cert = nullptr;
    const Node* tls_file = nullptr;
    const Node* user = nullptr;
    const Node* password = nullptr;
    entries(map, "settings.coordination.etcd", kEtcdKeys, [&](const Node& k, const Node& v) {
      const std::string& n = k.text;
      if (n == "endpoints") {
        has_endpoints = true;
        if (!expect_list(k, v)) return;
        if (v.children.empty())
          error(v, "`endpoints` needs at least one etcd URL", "e.g. [\"https://etcd-1:2379\"]");
        if (v.children.size() > kMaxEtcdEndpoints)
          error(v, "`endpoints` lists " + std::to_string(v.children.size()) + " URLs; at most " +
                       std::to_string(kMaxEtcdEndpoints) + " are supported");
        for (const Node& item : v.children) {
          auto t = item_text(k, item);
          if (!t) continue;
          if (!is_etcd_endpoint(*t)) {
            error(item, "`" + shorten(*t) + "` is not an etcd endpoint",
                  "write https://HOST:PORT (http:// only for 127.0.0.1, localhost or [::1])");
            continue;
          }
          std::string url = t->ends_with("/") ? t->substr(0, t->size() - 1) : *t;
          if (std::find(e.endpoints.begin(), e.endpoints.end(), url) != e.endpoints.end()) {
            error(item, "etcd endpoint `" + shorten(url) + "` is listed twice");
            continue;
          }
          e.endpoints.push_back(std::move(url));
        }
      } else if (n == "leaseTTL") {
        auto t = text(k, v);
        if (!t) return;
        auto d = format::parse_duration(*t);
        if (!d) {
          error(v, "`leaseTTL`: `" + shorten(*t) + "` is not a duration",
                "write e.g. `15s` or `1m`");
        } else if (d->count() < 3 || d->count() > 300) {
          // Below 3 s the renewals (every TTL/3) and the write budget (TTL/3 per request) leave no
          // room on a busy host; etcd itself raises TTLs under 2 s.
          error(v, "`leaseTTL` must be between 3s and 5m");
        } else {
          e.lease_ttl = *d;
        }
      } else if (n == "prefix") {
        if (auto p = matching(k, v, is_etcd_prefix,
                              "an etcd key prefix (`/a/b`: segments of letters, digits, `.`, `_`, "
                              "`-`; no trailing `/`)"))
          e.prefix = *p;
      } else if (n == "caFile" || n == "certFile" || n == "keyFile" || n == "passwordFile") {
        auto p = matching(k, v, format::is_absolute_file_path, "an absolute file path");
        if (!p) return;
        if (n == "passwordFile") {
          e.password_file = *p;
          password = &k;
          return;
        }
        tls_file = &k;
        if (n == "caFile") e.ca_file = *p;
        if (n == "keyFile") e.key_file = *p;
        if (n == "certFile") {
          e.cert_file = *p;
          cert = &k;
        }
      } else if (n == "username") {
        if (auto u = matching(k, v, is_etcd_username,
                              "an etcd user name (1-128 letters, digits, `.`, `_`, `-`, `@`)")) {
          e.username = *u;
          user = &k;
        }
      }
    });
    if (!has_endpoints)
      error(key, "`etcd` needs `endpoints`", "e.g. endpoints: [\"https://etcd-1:2379\"]");
    if (!e.cert_file.empty() != !e.key_file.empty())
      error(cert != nullptr ? *cert : key,
            "`certFile` and `keyFile` go together (the client certificate and its private key)");
    if (user != nullptr && password == nullptr)
      error(*user, "`username` needs `passwordFile` (a file holding the etcd password)");
    if (password != nullptr && user == nullptr) error(*password, "`passwordFile` needs `username`");
    const bool any_https =
        std::any_of(e.endpoints.begin(), e.endpoints.end(),
                    [](const std::string& u) { return u.starts_with("https://"); });
    if (tls_file != nullptr && !e.endpoints.empty() && !any_https)
      error(*tls_file, "`" + tls_file->text + "` needs https:// endpoints",
            "TLS files are used only for https:// etcd endpoints");
  }

  void credentials(const Node& key, const Node& map, ParsedAccount& pa) {
    if (!expect_map(key, map)) return;
    CredentialsSpec& c = pa.account.credentials;
    std::optional<std::string> source;
    const Node* source_node = nullptr;
    for (std::size_t i = 0; i + 1 < map.children.size(); i += 2)
      if (map.children[i].is_scalar() && map.children[i].text == "source") {
        source_node = &map.children[i + 1];
        source = one_of(map.children[i], map.children[i + 1], kSources);
      }
    if (!source_node) {
      error(map, "`credentials` needs a `source`",
            "one of: default, env, profile, ecsRamRole, oidc, assumeRole");
    }
    // Which keys each source takes; the first list is required.
    struct Fields {
      Keys required, optional;
    };
    static const std::vector<std::pair<std::string_view, Fields>> kFields = {
        {"default", {{}, {}}},
        {"env", {{"accessKeyIdEnv", "accessKeySecretEnv"}, {"securityTokenEnv"}}},
        {"profile", {{"profile"}, {}}},
        {"ecsRamRole", {{}, {"roleName"}}},
        {"oidc", {{"roleArn", "oidcProviderArn", "oidcTokenFile"}, {"roleSessionName"}}},
        {"assumeRole", {{"roleArn"}, {"externalId", "roleSessionName", "from"}}},
    };
    const Fields* fields = nullptr;
    if (source) {
      for (const auto& [name, f] : kFields)
        if (name == *source) fields = &f;
      c.source = *source == "env"          ? CredentialSource::kEnv
                 : *source == "profile"    ? CredentialSource::kProfile
                 : *source == "ecsRamRole" ? CredentialSource::kEcsRamRole
                 : *source == "oidc"       ? CredentialSource::kOidc
                 : *source == "assumeRole" ? CredentialSource::kAssumeRole
                                           : CredentialSource::kDefault;
      if (c.source == CredentialSource::kOidc || c.source == CredentialSource::kAssumeRole) {
        c.role_session_name = "sharekeeper";
        if (c.source == CredentialSource::kAssumeRole) c.from = "default";
      }
    }
    std::vector<std::string_view> seen;
    entries(map, "credentials", kCredentialKeys, [&](const Node& k, const Node& v) {
      const std::string& n = k.text;
      if (n == "source") return;
      seen.push_back(n);
      if (fields &&
          std::find(fields->required.begin(), fields->required.end(), n) ==
              fields->required.end() &&
          std::find(fields->optional.begin(), fields->optional.end(), n) ==
              fields->optional.end()) {
        error(k, "`" + n + "` does not apply to `source: " + *source + "`");
        return;
      }
      if (n == "accessKeyIdEnv" || n == "accessKeySecretEnv" || n == "securityTokenEnv") {
        auto t = matching(k, v, format::is_env_var_name, "an environment variable name");
        if (!t) return;
        (n == "accessKeyIdEnv"       ? c.access_key_id_env
         : n == "accessKeySecretEnv" ? c.access_key_secret_env
                                     : c.security_token_env) = *t;
      } else if (n == "profile") {
        if (auto t = matching(k, v, format::is_profile_name, "a profile name")) c.profile = *t;
      } else if (n == "roleName") {
        if (auto t = matching(k, v, format::is_ram_role_name, "a RAM role name")) c.role_name = *t;
      } else if (n == "roleArn") {
        if (auto t = matching(k, v, format::is_role_arn,
                              "a role ARN (acs:ram::<16-digit UID>:role/<name>)"))
          c.role_arn = *t;
      } else if (n == "oidcProviderArn") {
        if (auto t =
                matching(k, v, format::is_oidc_provider_arn,
                         "an OIDC provider ARN (acs:ram::<16-digit UID>:oidc-provider/<name>)"))
          c.oidc_provider_arn = *t;
      } else if (n == "oidcTokenFile") {
        if (auto t = matching(k, v, format::is_absolute_file_path, "an absolute file path"))
          c.oidc_token_file = *t;
      } else if (n == "externalId") {
        if (auto t = matching(k, v, format::is_external_id,
                              "an external ID (2-1224 letters, digits and `=,.@:/_-`)"))
          c.external_id = *t;
      } else if (n == "roleSessionName") {
        if (auto t = matching(k, v, format::is_role_session_name,
                              "a role session name (2-64 letters, digits and `.@_-`)"))
          c.role_session_name = *t;
      } else if (n == "from") {
        pa.from_pos = pos_of(where(k, v));
        if (auto t = name(k, v, "an account name (or `default`)")) c.from = *t;
      }
    });
    if (fields)
      for (auto req : fields->required)
        if (std::find(seen.begin(), seen.end(), req) == seen.end())
          error(*source_node, "`source: " + *source + "` needs `" + std::string(req) + "`");
  }

  std::optional<ParsedAccount> account(const Node& item) {
    if (!item.is_map()) {
      error(item, "each account must be a mapping, not " + std::string(kind_name(item)));
      return std::nullopt;
    }
    ParsedAccount pa;
    pa.account.where = {file_, item.line, item.column};
    pa.name_pos = pos_of(item);
    bool named = false, unusable = false;
    entries(item, "an account", kAccountKeys, [&](const Node& k, const Node& v) {
      const std::string& n = k.text;
      if (n == "name") {
        named = true;  // a name that cannot be used is reported here, not as a missing one
        pa.name_pos = pos_of(where(k, v));
        auto t = name(k, v, "a valid account name");
        // An invalid but non-blank name is kept, so shares that use it get no "unknown account"
        // noise on top of this error; a blank one drops the account.
        if (!t) {
          if (v.is_scalar() && !is_blank(v.text))
            pa.account.name = v.text;
          else
            unusable = true;
          return;
        }
        pa.account.name = *t;
        if (*t == "default")
          error(v, "`default` is reserved (it means the default credentials chain in `from`)");
      } else if (n == "uid") {
        auto t = text(k, v);
        if (!t) return;
        pa.uid_pos = pos_of(v);
        if (format::is_account_uid(*t))
          pa.account.uid = *t;
        else
          error(v, "`uid`: `" + shorten(*t) + "` is not an account UID (16 digits)",
                "quote UIDs: \"1234567890123456\"");
      } else if (n == "credentials") {
        credentials(k, v, pa);
      } else if (n == "adopt") {
        if (auto t = one_of(k, v, {"additive", "authoritative"}))
          pa.account.adopt =
              *t == "authoritative" ? AdoptMode::kAuthoritative : AdoptMode::kAdditive;
      } else if (n == "protectedPrincipals") {
        if (!expect_list(k, v)) return;
        for (const Node& p : v.children) {
          auto t = item_text(k, p);
          if (!t) continue;
          std::string_view s = *t;
          bool root_path = s.size() == 18 && format::is_rd_id(s.substr(0, 9)) && s[9] == '/' &&
                           format::is_root_folder_id(s.substr(10));
          if (format::is_account_uid(s) || format::is_rd_id(s) || format::is_folder_path(s) ||
              root_path)
            pa.account.protected_principals.push_back(*t);
          else
            error(
                p, "`" + shorten(s) + "` is not a principal",
                "an account UID (16 digits), a resource directory id (rd-xxxxxx) or a folder path");
        }
      }
    });
    if (!named) {
      error(item, "an account needs a `name`");
      return std::nullopt;
    }
    if (unusable) return std::nullopt;
    return pa;
  }

  void resource_list(const Node& k, const Node& v, bool images, std::vector<Item>& out) {
    if (!expect_list(k, v)) return;
    for (const Node& it : v.children) {
      auto t = item_text(k, it);
      if (!t) continue;
      bool ok = images ? format::is_image_id(*t) : format::is_snapshot_id(*t);
      if (ok) {
        out.push_back({*t, pos_of(it)});
      } else if (images && format::is_snapshot_id(*t)) {
        error(it, "`" + *t + "` is a snapshot id, listed under `images`", "move it to `snapshots`");
      } else if (!images && format::is_image_id(*t)) {
        error(it, "`" + *t + "` is an image id, listed under `snapshots`", "move it to `images`");
      } else {
        error(it, "`" + shorten(*t) + "` is not " + (images ? "an image id" : "a snapshot id"),
              images ? "m- followed by 10-32 lowercase letters or digits"
                     : "s- followed by 10-32 lowercase letters or digits");
      }
    }
  }

  void folder_list(const Node& k, const Node& v, std::vector<Item>& out) {
    if (!expect_list(k, v)) return;
    for (const Node& it : v.children) {
      auto t = item_text(k, it);
      if (!t) continue;
      std::string_view s = *t;
      if (format::is_folder_path(s)) {
        out.push_back({*t, pos_of(it)});
        continue;
      }
      std::string hint =
          "rd-xxxxxx/r-xxxxxx/fd-xxxxxxxxxx, one fd- id per level below the root folder (at most " +
          std::to_string(format::kMaxFolderLevels) + ")";
      if (s.find("..") != std::string_view::npos || s.find("/./") != std::string_view::npos)
        hint = "`..` and `.` are not allowed in a folder path";
      else if (s.size() == 18 && format::is_rd_id(s.substr(0, 9)) && s[9] == '/' &&
               format::is_root_folder_id(s.substr(10)))
        hint = "to share with the whole directory, use `resourceDirectory: " +
               std::string(s.substr(0, 9)) + "`";
      else if (format::is_folder_id(s))
        hint = "write the full path from the directory: rd-xxxxxx/r-xxxxxx/.../" + std::string(s);
      error(it, "`" + shorten(s) + "` is not a folder path", hint);
    }
  }

  void selector(const Node& k, const Node& v, ParsedShare& ps) {
    if (!expect_map(k, v)) return;
    bool has_tags = false;
    entries(v, "selector", kSelectorKeys, [&](const Node& tk, const Node& tv) {
      if (!expect_map(tk, tv)) return;
      has_tags = true;
      if (tv.children.empty()) error(tv, "`selector.tags` needs at least one tag");
      if (tv.children.size() / 2 > kMaxSelectorTags)
        error(tv, "`selector.tags` has more than " + std::to_string(kMaxSelectorTags) + " tags");
      for (std::size_t i = 0; i + 1 < tv.children.size(); i += 2) {
        const Node& key = tv.children[i];
        const Node& val = tv.children[i + 1];
        if (!key.is_scalar()) continue;
        bool ok = true;
        if (!format::is_tag_key(key.text)) {
          error(key, "`" + shorten(key.text) + "` is not a valid tag key",
                "1-128 characters; no control characters, `\"` or `\\`; not starting with `aliyun` "
                "or `acs:`");
          ok = false;
        }
        if (!val.is_scalar()) {
          error(where(key, val),
                "the value of tag `" + shorten(key.text) + "` must be a single value",
                val.is_null() ? "write \"\" for an empty value" : "");
          continue;
        }
        if (!format::is_tag_value(val.text)) {
          error(val, "not a valid tag value",
                "0-128 characters; no control characters, `\"` or `\\`");
          ok = false;
        }
        if (ok) ps.share.selector_tags[key.text] = val.text;
      }
    });
    if (!has_tags) error(where(k, v), "`selector` needs `tags`");
  }

  void targets(const Node& k, const Node& v, ParsedShare& ps) {
    ps.to_pos = pos_of(v);
    if (!expect_map(k, v)) return;
    entries(v, "to", kTargetKeys, [&](const Node& tk, const Node& tv) {
      const std::string& n = tk.text;
      if (n == "accounts") {
        if (!expect_list(tk, tv)) return;
        for (const Node& it : tv.children) check_uid_item(tk, it, ps.to_accounts);
      } else if (n == "resourceDirectory") {
        ps.resource_directory_pos = pos_of(where(tk, tv));
        if (auto t = matching(tk, tv, format::is_rd_id,
                              "a resource directory id (rd- and 6 letters or digits)"))
          ps.share.to.resource_directory = *t;
      } else if (n == "folders") {
        folder_list(tk, tv, ps.folders);
      }
    });
  }

  std::optional<ParsedShare> share(const Node& item) {
    if (!item.is_map()) {
      error(item, "each share must be a mapping, not " + std::string(kind_name(item)));
      return std::nullopt;
    }
    ParsedShare ps;
    ps.share.where = {file_, item.line, item.column};
    ps.name_pos = ps.account_pos = ps.to_pos = pos_of(item);
    bool named = false, unusable = false, has_account = false, has_region = false, has_to = false;
    entries(item, "a share", kShareKeys, [&](const Node& k, const Node& v) {
      const std::string& n = k.text;
      if (n == "name") {
        named = true;  // a name that cannot be used is reported here, not as a missing one
        ps.name_pos = pos_of(where(k, v));
        if (auto t = name(k, v, "a valid share name"))
          ps.share.name = *t;
        else
          unusable = true;
      } else if (n == "account") {
        has_account = true;
        ps.account_pos = pos_of(where(k, v));
        if (auto t = name(k, v, "an account name"))
          ps.share.account = *t;
        else
          ps.account_reported = true;
      } else if (n == "region") {
        has_region = true;
        auto t = matching(k, v, format::is_region_id, "a region id (like cn-hangzhou)");
        if (!t) return;
        ps.share.region = *t;
        if (!format::is_known_region(*t)) {
          auto c = format::closest(*t, format::known_regions());
          warning(v, "`" + *t + "` is not a region sharekeeper knows",
                  c ? "did you mean `" + std::string(*c) + "`?"
                    : "check the region id with DescribeRegions");
        }
      } else if (n == "images" || n == "snapshots" || n == "selector") {
        auto before = diags_.size();
        if (n == "selector")
          selector(k, v, ps);
        else
          resource_list(k, v, n == "images", n == "images" ? ps.images : ps.snapshots);
        ps.resource_errors |= diags_.size() > before;
      } else if (n == "to") {
        has_to = ps.has_to = true;
        auto before = diags_.size();
        targets(k, v, ps);
        ps.target_errors = diags_.size() > before;
      } else if (n == "mode") {
        if (auto t = one_of(k, v, {"enforce", "observe"}))
          ps.share.mode = *t == "observe" ? ShareMode::kObserve : ShareMode::kEnforce;
      }
    });
    // A misspelt key (`image:`) already has an error; "selects no resources" would only repeat it.
    for (std::size_t i = 0; i + 1 < item.children.size(); i += 2)
      if (std::find(kShareKeys.begin(), kShareKeys.end(), item.children[i].text) ==
          kShareKeys.end())
        ps.resource_errors = ps.target_errors = true;
    if (!has_account) {
      error(item, "a share needs an `account`");
      ps.account_reported = true;
    }
    if (!has_region) error(item, "a share needs a `region`");
    if (!has_to) error(item, "a share needs `to` (accounts, resourceDirectory or folders)");
    if (!named) {
      error(item, "a share needs a `name`");
      return std::nullopt;
    }
    if (unusable) return std::nullopt;  // its error is reported; nothing can refer to it
    return ps;
  }

  ParsedFile file(const Node& root) {
    ParsedFile out;
    out.file = file_;
    if (!root.is_map()) {
      error(root, "the file must be a mapping with `apiVersion: " + std::string(kApiVersion) +
                      "`, not " + std::string(kind_name(root)));
      return out;
    }
    bool has_api = false;
    entries(root, "the top level", kRootKeys, [&](const Node& k, const Node& v) {
      const std::string& n = k.text;
      if (n == "apiVersion") {
        has_api = true;
        auto t = text(k, v);
        if (t && *t != kApiVersion)
          error(v, "unsupported apiVersion `" + shorten(*t) + "`",
                "expected `" + std::string(kApiVersion) + "`");
      } else if (n == "settings") {
        out.settings_pos = pos_of(where(k, v));
        if (expect_map(k, v)) out.settings = settings(v);
      } else if (n == "accounts") {
        if (!expect_list(k, v)) return;
        for (const Node& it : v.children)
          if (auto a = account(it)) out.accounts.push_back(std::move(*a));
      } else if (n == "shares") {
        if (!expect_list(k, v)) return;
        out.shares.reserve(v.children.size());
        for (const Node& it : v.children)
          if (auto s = share(it)) out.shares.push_back(std::move(*s));
      }
    });
    if (!has_api)
      error(root, "missing `apiVersion`",
            "start the file with `apiVersion: " + std::string(kApiVersion) + "`");
    return out;
  }

 private:
  const std::string& file_;
  std::vector<Diagnostic>& diags_;
};

}  // namespace

const std::vector<std::pair<std::string, std::vector<std::string_view>>>& schema_keys() {
  static const std::vector<std::pair<std::string, std::vector<std::string_view>>> kAll = {
      {"root", kRootKeys},
      {"settings", kSettingsKeys},
      {"endpoints", kEndpointKeys},
      {"coordination", kCoordinationKeys},
      {"etcd", kEtcdKeys},
      {"account", kAccountKeys},
      {"credentials", kCredentialKeys},
      {"share", kShareKeys},
      {"selector", kSelectorKeys},
      {"to", kTargetKeys},
  };
  return kAll;
}

ParsedFile check_file(const std::string& file, const Node& root, std::vector<Diagnostic>& diags) {
  return Checker(file, diags).file(root);
}

}  // namespace sharekeeper::config::detail
