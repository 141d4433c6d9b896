// docs/config.schema.json against the loader: the same keys in every mapping, the same defaults,
// the examples valid under both, and a table of mistakes rejected by both. The schema is checked
// with a small validator of the JSON Schema keywords it uses (no new dependency); YAML becomes JSON
// the way an editor's YAML language server would read it (plain true/false are booleans, plain
// numbers are numbers).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "config/loader.hpp"
#include "config/yaml_tree.hpp"

namespace sharekeeper::config {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

json load_schema() {
  std::ifstream in(fs::path(SHAREKEEPER_SOURCE_DIR) / "docs" / "config.schema.json");
  return json::parse(in);
}

json to_json(const detail::Node& n) {
  using K = detail::Node::Kind;
  switch (n.kind) {
    case K::kNull:
      return nullptr;
    case K::kScalar: {
      if (n.quoted) return n.text;
      if (n.text == "true" || n.text == "false") return n.text == "true";
      static const std::regex kInt("-?[0-9]+"), kFloat("-?[0-9]+\\.[0-9]+");
      if (std::regex_match(n.text, kInt)) return json::parse(n.text);
      if (std::regex_match(n.text, kFloat)) return std::stod(n.text);
      return n.text;
    }
    case K::kSequence: {
      json a = json::array();
      for (const auto& c : n.children) a.push_back(to_json(c));
      return a;
    }
    case K::kMap: {
      json o = json::object();
      for (std::size_t i = 0; i + 1 < n.children.size(); i += 2)
        o[n.children[i].text] = to_json(n.children[i + 1]);
      return o;
    }
  }
  return nullptr;
}

json yaml_to_json(const std::string& yaml) {
  auto parsed = detail::parse_yaml("t.yaml", yaml);
  EXPECT_TRUE(parsed.has_root);
  return to_json(parsed.root);
}

std::size_t code_points(const std::string& s) {
  std::size_t n = 0;
  for (char c : s)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  return n;
}

// The subset of draft 2020-12 that docs/config.schema.json uses. Returns the first violation, or
// "".
class Validator {
 public:
  explicit Validator(json root) : root_(std::move(root)) {}

  std::string validate(const json& v) { return check(root_, v, "$"); }

 private:
  std::string check(const json& s, const json& v, const std::string& at) {
    if (s.contains("$ref")) {
      std::string ref = s["$ref"];
      EXPECT_EQ(ref.rfind("#/$defs/", 0), 0u) << ref;
      if (auto e = check(root_["$defs"][ref.substr(8)], v, at); !e.empty()) return e;
    }
    for (const auto& [kw, _] : s.items())
      EXPECT_TRUE(kKnown.count(kw)) << "validator lacks keyword " << kw;
    if (s.contains("type") && !type_ok(s["type"], v))
      return at + ": not a " + s["type"].get<std::string>();
    if (s.contains("const") && v != s["const"]) return at + ": not " + s["const"].dump();
    if (s.contains("enum") && std::find(s["enum"].begin(), s["enum"].end(), v) == s["enum"].end())
      return at + ": not one of " + s["enum"].dump();
    if (v.is_string()) {
      std::string str = v;
      if (s.contains("pattern") &&
          !std::regex_search(str, std::regex(s["pattern"].get<std::string>())))
        return at + ": does not match " + s["pattern"].get<std::string>();
      if (s.contains("minLength") && code_points(str) < s["minLength"]) return at + ": too short";
      if (s.contains("maxLength") && code_points(str) > s["maxLength"]) return at + ": too long";
    }
    if (v.is_number()) {
      if (s.contains("minimum") && v.get<double>() < s["minimum"].get<double>())
        return at + ": below minimum";
      if (s.contains("maximum") && v.get<double>() > s["maximum"].get<double>())
        return at + ": above maximum";
    }
    if (v.is_object()) {
      for (const auto& r : s.value("required", json::array()))
        if (!v.contains(r)) return at + ": missing " + r.get<std::string>();
      if (s.contains("minProperties") && v.size() < s["minProperties"])
        return at + ": too few properties";
      if (s.contains("maxProperties") && v.size() > s["maxProperties"])
        return at + ": too many properties";
      for (const auto& [k, val] : v.items()) {
        if (s.contains("propertyNames"))
          if (auto e = check(s["propertyNames"], k, at + "." + k + "(name)"); !e.empty()) return e;
        if (s.contains("properties") && s["properties"].contains(k)) {
          if (auto e = check(s["properties"][k], val, at + "." + k); !e.empty()) return e;
        } else if (s.contains("additionalProperties")) {
          const json& ap = s["additionalProperties"];
          if (ap.is_boolean() && !ap.get<bool>()) return at + ": unknown property " + k;
          if (ap.is_object())
            if (auto e = check(ap, val, at + "." + k); !e.empty()) return e;
        }
      }
    }
    if (v.is_array()) {
      if (s.contains("minItems") && v.size() < s["minItems"]) return at + ": too few items";
      for (std::size_t i = 0; i < v.size() && s.contains("items"); ++i)
        if (auto e = check(s["items"], v[i], at + "[" + std::to_string(i) + "]"); !e.empty())
          return e;
    }
    for (const auto& sub : s.value("allOf", json::array()))
      if (auto e = check(sub, v, at); !e.empty()) return e;
    if (s.contains("anyOf")) {
      bool any = false;
      for (const auto& sub : s["anyOf"]) any = any || check(sub, v, at).empty();
      if (!any) return at + ": matches none of anyOf";
    }
    if (s.contains("not") && check(s["not"], v, at).empty()) return at + ": matches `not`";
    if (s.contains("if") && check(s["if"], v, at).empty() && s.contains("then"))
      if (auto e = check(s["then"], v, at); !e.empty()) return e;
    return "";
  }

  static bool type_ok(const json& t, const json& v) {
    std::string type = t;
    if (type == "object") return v.is_object();
    if (type == "array") return v.is_array();
    if (type == "string") return v.is_string();
    if (type == "boolean") return v.is_boolean();
    if (type == "integer") return v.is_number_integer();
    if (type == "number") return v.is_number();
    ADD_FAILURE() << "type " << type;
    return false;
  }

  inline static const std::set<std::string> kKnown = {
      "$schema",       "$id",           "$ref",
      "$defs",         "title",         "description",
      "default",       "type",          "const",
      "enum",          "pattern",       "minLength",
      "maxLength",     "minimum",       "maximum",
      "required",      "properties",    "additionalProperties",
      "propertyNames", "minProperties", "maxProperties",
      "items",         "minItems",      "allOf",
      "anyOf",         "not",           "if",
      "then"};
  json root_;
};

std::set<std::string> schema_properties(const json& schema, const std::string& context) {
  const json& node = context == "root" ? schema : schema["$defs"][context];
  std::set<std::string> out;
  for (const auto& [k, _] : node["properties"].items()) out.insert(k);
  return out;
}

TEST(Schema, PropertyNamesEqualTheLoadersKeysInEveryMapping) {
  json schema = load_schema();
  auto keys = accepted_keys();
  ASSERT_EQ(keys.size(), 10u);
  for (const auto& [context, list] : keys) {
    std::set<std::string> loader(list.begin(), list.end());
    EXPECT_EQ(schema_properties(schema, context), loader) << context;
    const json& node = context == "root" ? schema : schema["$defs"][context];
    EXPECT_EQ(node.value("additionalProperties", json()), false) << context;
  }
}

TEST(Schema, DefaultsEqualTheLoaders) {
  json s = load_schema()["$defs"]["settings"]["properties"];
  Settings d;
  EXPECT_EQ(s["interval"]["default"], "5m");
  EXPECT_EQ(d.interval, std::chrono::seconds(300));
  EXPECT_EQ(s["jitter"]["default"].get<double>(), d.jitter);
  EXPECT_EQ(s["prune"]["default"].get<bool>(), d.prune);
  EXPECT_EQ(s["maxRevocationsPerCycle"]["default"].get<int>(), d.max_revocations_per_cycle);
  EXPECT_EQ(s["maxRevokeFraction"]["default"].get<double>(), d.max_revoke_fraction);
  EXPECT_EQ(s["allowMassRevoke"]["default"].get<bool>(), d.allow_mass_revoke);
  EXPECT_EQ(s["instanceName"]["default"].get<std::string>(), d.instance_name);
  EXPECT_EQ(s["allowServiceKeyShares"]["default"].get<bool>(), d.allow_service_key_shares);
  EXPECT_EQ(s["manageShares"]["default"].get<bool>(), d.manage_shares);
  EXPECT_EQ(s["manageDiskEncryptRole"]["default"].get<bool>(), d.manage_disk_encrypt_role);
}

TEST(Schema, ExamplesAreValidUnderTheSchemaAndTheLoader) {
  Validator v(load_schema());
  int n = 0;
  for (const auto& e : fs::directory_iterator(fs::path(SHAREKEEPER_SOURCE_DIR) / "examples")) {
    if (e.path().extension() != ".yaml") continue;
    std::ifstream in(e.path());
    std::stringstream ss;
    ss << in.rdbuf();
    EXPECT_EQ(v.validate(yaml_to_json(ss.str())), "") << e.path();
    EXPECT_TRUE(load(e.path()).ok()) << e.path();
    ++n;
  }
  EXPECT_GE(n, 4);
}

// Each mistake is rejected by the loader and by the schema alike.
TEST(Schema, MistakesAreRejectedByBoth) {
  const std::string head =
      "apiVersion: sharekeeper/v1\n"
      "accounts:\n"
      "  - name: prod\n"
      "    uid: \"1234567890123456\"\n";
  const std::string share =
      "shares:\n"
      "  - name: s1\n"
      "    account: prod\n"
      "    region: cn-hangzhou\n";
  const std::string image = "    images: [m-bp1aaaaaaaaaaaaaaaaa]\n";
  const std::string target = "    to: {accounts: [\"1111222233334444\"]}\n";
  const std::string good = head + share + image + target;
  Validator v(load_schema());
  ASSERT_EQ(v.validate(yaml_to_json(good)), "");
  ASSERT_TRUE(load_sources({{"c.yaml", good}}).ok());

  const std::vector<std::pair<const char*, std::string>> bad = {
      {"unknown key", head + share + image + target + "    snapshot: []\n"},
      {"api version", "apiVersion: sharekeeper/v2\n"},
      // Issue 11: a share whose account names nothing, and names that cannot be referred to.
      {"empty account", head +
                            "shares:\n  - name: s1\n    account: \"\"\n    region: cn-hangzhou\n" +
                            image + target},
      {"blank account", head +
                            "shares:\n  - name: s1\n    account: \" \"\n    region: cn-hangzhou\n" +
                            image + target},
      {"null account",
       head + "shares:\n  - name: s1\n    account: ~\n    region: cn-hangzhou\n" + image + target},
      {"account named null", head + "  - {name: \"null\"}\n" + share + image + target},
      {"empty from", head +
                         "  - {name: cx, credentials: {source: assumeRole, roleArn: "
                         "\"acs:ram::1234567890123456:role/x\", from: \"\"}}\n" +
                         share + image + target},
      {"uid", head + share + image + "    to: {accounts: [\"123\"]}\n"},
      {"snapshot in images", head + share + "    images: [s-bp1aaaaaaaaaaaaaaaaa]\n" + target},
      {"folder dotdot",
       head + share + image + "    to: {folders: [\"rd-abc123/r-ab12cd/../fd-0123456789\"]}\n"},
      {"folder root only", head + share + image + "    to: {folders: [\"rd-abc123/r-ab12cd\"]}\n"},
      {"rd id", head + share + image + "    to: {resourceDirectory: rd-abc}\n"},
      {"no target", head + share + image + "    to: {}\n"},
      {"no resource", head + share + target},
      {"mode", head + share + image + target + "    mode: enforcing\n"},
      {"region", head + "shares:\n  - {name: s1, account: prod, region: CN, images: "
                        "[m-bp1aaaaaaaaaaaaaaaaa], to: {}}\n"},
      {"duration", good + "settings: {interval: 5 minutes}\n"},
      {"quoted boolean", good + "settings: {prune: \"true\"}\n"},
      {"fraction", good + "settings: {maxRevokeFraction: 1.5}\n"},
      {"instance name", good + "settings: {instanceName: aliyun-x}\n"},
      {"endpoint", good + "settings: {endpoints: {ecs: \"http://ecs.aliyuncs.com\"}}\n"},
      {"endpoint product", good + "settings: {endpoints: {vpc: \"https://vpc.aliyuncs.com\"}}\n"},
      {"etcd without endpoints", good + "settings: {coordination: {etcd: {leaseTTL: 15s}}}\n"},
      {"etcd over plain http",
       good + "settings: {coordination: {etcd: {endpoints: [\"http://etcd-1:2379\"]}}}\n"},
      {"coordination backend", good + "settings: {coordination: {consul: {}}}\n"},
      {"env incomplete", good + "  - {name: ci, credentials: {source: env, accessKeyIdEnv: A}}\n"},
      {"field of another source",
       good + "  - {name: ci, credentials: {source: env, accessKeyIdEnv: A, "
              "accessKeySecretEnv: B, profile: x}}\n"},
      {"secret", good + "  - {name: ci, credentials: {source: default, accessKeySecret: x}}\n"},
      {"role arn",
       good +
           "  - {name: ci, credentials: {source: assumeRole, roleArn: \"acs:ram::1:role/x\"}}\n"},
      {"relative token file", good +
                                  "  - {name: ci, credentials: {source: oidc, roleArn: "
                                  "\"acs:ram::1234567890123456:role/x\", "
                                  "oidcProviderArn: \"acs:ram::1234567890123456:oidc-provider/p\", "
                                  "oidcTokenFile: token}}\n"},
      {"reserved account name", good + "  - {name: default}\n"},
      {"empty selector", head + share + "    selector: {tags: {}}\n" + target},
      {"reserved tag key", head + share + "    selector: {tags: {\"aliyun:x\": y}}\n" + target},
  };
  // The `good` config ends inside `shares`; entries appended with "  - {name: ci ...}" are accounts
  // in the schema's eyes only when `accounts:` comes last, so rebuild those with accounts last.
  for (const auto& [rule, text] : bad) {
    std::string yaml = text;
    if (yaml.find("name: ci") != std::string::npos ||
        yaml.find("name: default}") != std::string::npos) {
      auto tail = yaml.substr(good.size());
      yaml = "apiVersion: sharekeeper/v1\n" + share + image + target + "accounts:\n" +
             "  - {name: prod, uid: \"1234567890123456\"}\n" + tail;
    }
    EXPECT_FALSE(load_sources({{"c.yaml", yaml}}).ok()) << rule << "\n" << yaml;
    EXPECT_NE(v.validate(yaml_to_json(yaml)), "") << rule << "\n" << yaml;
  }
}

}  // namespace
}  // namespace sharekeeper::config
