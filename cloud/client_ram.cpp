// RAM (global, 2015-05-01) and STS (2015-04-01) typed calls: docs/alibaba-api.md §3-§4.
#include "cloud/client_internal.hpp"
#include "support/wire.hpp"

namespace sharekeeper::cloud {
namespace {

using detail::json;

constexpr std::size_t kMaxTagResourceNames = 50;  // TagResources / ListTagResources ResourceNames
constexpr std::size_t kMaxTagsPerCall = 20;

AlibabaClient::Call ram(std::string_view action, Params params, bool read_only) {
  return AlibabaClient::Call{"ram", wire::kRamVersion, action, "", std::move(params), read_only};
}

Role parse_role(const json& r) {
  Role role;
  role.role_id = detail::str(r, "RoleId");
  role.role_name = detail::str(r, "RoleName");
  role.arn = detail::str(r, "Arn");
  role.description = detail::str(r, "Description");
  role.trust_policy = detail::document(r, "AssumeRolePolicyDocument");
  role.create_date = detail::str(r, "CreateDate");
  role.update_date = detail::str(r, "UpdateDate");
  role.max_session_duration = static_cast<int>(detail::integer(r, "MaxSessionDuration", 3600));
  return role;
}

Policy parse_policy(const json& p) {
  Policy policy;
  policy.policy_name = detail::str(p, "PolicyName");
  policy.policy_type = detail::str(p, "PolicyType");
  policy.description = detail::str(p, "Description");
  policy.default_version = detail::str(p, "DefaultVersion");
  policy.attachment_count = static_cast<int>(detail::integer(p, "AttachmentCount", 0));
  return policy;
}

PolicyVersion parse_version(const json& v) {
  PolicyVersion version;
  version.version_id = detail::str(v, "VersionId");
  version.is_default = detail::boolean(v, "IsDefaultVersion");
  version.document = detail::document(v, "PolicyDocument");
  version.create_date = detail::str(v, "CreateDate");
  return version;
}

// The object under `key` of an answer, or a malformed-response error.
auto member(std::string_view key, const AlibabaClient::Call& call) {
  return [key, &call](json body) -> Result<json> {
    auto it = body.find(key);
    if (it == body.end() || !it->is_object())
      return detail::malformed(call, "response has no " + std::string(key) + " object");
    return std::move(*it);
  };
}

// NotFound is the answer of a read of one object that does not exist. Only the call can fail that
// way: an unreadable answer is Client.MalformedResponse (kOutcomeUnknown).
template <class T>
Result<std::optional<T>> absent_if_not_found(Error e) {
  if (e.cls == ErrorClass::kNotFound) return std::optional<T>{};
  return e;
}

// For an idempotent write: the error `code` means the state we wanted is already there.
auto success_if(std::string_view code) {
  return [code](Error e) -> Result<void> {
    if (e.is(code)) return {};
    return e;
  };
}

template <class T>
std::optional<T> present(T v) {
  return std::optional<T>(std::move(v));
}

}  // namespace

Result<CallerIdentity> AlibabaClient::get_caller_identity() {
  const Call call{"sts", wire::kStsVersion, "GetCallerIdentity", "", {}, true};
  return detail::call_json(*this, call).and_then([&](const json& j) -> Result<CallerIdentity> {
    CallerIdentity id;
    id.account_id = detail::str(j, "AccountId");
    id.arn = detail::str(j, "Arn");
    id.identity_type = detail::str(j, "IdentityType");
    id.principal_id = detail::str(j, "PrincipalId");
    if (id.account_id.empty())
      return detail::malformed(call, "GetCallerIdentity without AccountId");
    return id;
  });
}

Result<std::optional<Role>> AlibabaClient::get_role(std::string_view role_name) {
  const Call call = ram("GetRole", {{"RoleName", std::string(role_name)}}, true);
  return detail::call_json(*this, call)
      .and_then(member("Role", call))
      .transform([](const json& r) { return present(parse_role(r)); })
      .or_else(absent_if_not_found<Role>);
}

Result<Role> AlibabaClient::create_role(std::string_view role_name, std::string_view trust_policy,
                                        std::string_view description,
                                        const std::vector<Tag>& tags) {
  // MaxSessionDuration is RAM's default, sent explicitly as in the reference SDK capture.
  Params p{{"RoleName", std::string(role_name)},
           {"AssumeRolePolicyDocument", std::string(trust_policy)},
           {"MaxSessionDuration", "3600"}};
  if (!description.empty()) p["Description"] = std::string(description);
  if (!tags.empty()) p["Tag"] = detail::json_tags(tags);
  const Call call = ram("CreateRole", std::move(p), false);
  return detail::call_json(*this, call).and_then(member("Role", call)).transform(parse_role);
}

Result<Role> AlibabaClient::update_role_trust_policy(std::string_view role_name,
                                                     std::string_view trust_policy) {
  const Call call = ram("UpdateRole",
                        {{"RoleName", std::string(role_name)},
                         {"NewAssumeRolePolicyDocument", std::string(trust_policy)}},
                        false);
  return detail::call_json(*this, call).and_then(member("Role", call)).transform(parse_role);
}

Result<std::vector<AttachedPolicy>> AlibabaClient::list_policies_for_role(
    std::string_view role_name) {
  const Call call = ram("ListPoliciesForRole", {{"RoleName", std::string(role_name)}}, true);
  return detail::call_json(*this, call)
      .and_then([&](const json& j) -> Result<std::vector<AttachedPolicy>> {
        const json* list = detail::items(j, "Policies", "Policy");
        if (list == nullptr) return detail::malformed(call, "Policies.Policy is not a list");
        std::vector<AttachedPolicy> out;
        for (const auto& p : *list) {
          AttachedPolicy a;
          a.policy_name = detail::str(p, "PolicyName");
          a.policy_type = detail::str(p, "PolicyType");
          a.default_version = detail::str(p, "DefaultVersion");
          a.attach_date = detail::str(p, "AttachDate");
          out.push_back(std::move(a));
        }
        return out;
      });
}

Result<std::optional<Policy>> AlibabaClient::get_policy(std::string_view policy_name,
                                                        std::string_view policy_type) {
  const Call call = ram(
      "GetPolicy",
      {{"PolicyName", std::string(policy_name)}, {"PolicyType", std::string(policy_type)}}, true);
  return detail::call_json(*this, call)
      .and_then([&](json j) {
        return member("Policy", call)(j).transform([&](const json& p) {
          Policy policy = parse_policy(p);
          // Policy.PolicyDocument is deprecated: the default version's document is the one in
          // force.
          if (auto v = j.find("DefaultPolicyVersion"); v != j.end() && v->is_object())
            policy.default_document = detail::document(*v, "PolicyDocument");
          return present(std::move(policy));
        });
      })
      .or_else(absent_if_not_found<Policy>);
}

Result<std::vector<PolicyVersion>> AlibabaClient::list_policy_versions(
    std::string_view policy_name, std::string_view policy_type) {
  const Call call = ram(
      "ListPolicyVersions",
      {{"PolicyName", std::string(policy_name)}, {"PolicyType", std::string(policy_type)}}, true);
  return detail::call_json(*this, call)
      .and_then([&](const json& j) -> Result<std::vector<PolicyVersion>> {
        const json* list = detail::items(j, "PolicyVersions", "PolicyVersion");
        if (list == nullptr)
          return detail::malformed(call, "PolicyVersions.PolicyVersion is not a list");
        std::vector<PolicyVersion> out;
        for (const auto& v : *list) out.push_back(parse_version(v));
        return out;
      });
}

Result<Policy> AlibabaClient::create_policy(std::string_view policy_name, std::string_view document,
                                            std::string_view description,
                                            const std::vector<Tag>& tags) {
  Params p{{"PolicyName", std::string(policy_name)}, {"PolicyDocument", std::string(document)}};
  if (!description.empty()) p["Description"] = std::string(description);
  if (!tags.empty()) p["Tag"] = detail::json_tags(tags);
  const Call call = ram("CreatePolicy", std::move(p), false);
  return detail::call_json(*this, call)
      .and_then(member("Policy", call))
      .transform([&](const json& r) {
        Policy policy = parse_policy(r);
        // Custom documents are stored as submitted (docs/alibaba-api.md §3); CreatePolicy does not
        // echo it.
        policy.default_document = std::string(document);
        return policy;
      });
}

Result<PolicyVersion> AlibabaClient::create_policy_version(std::string_view policy_name,
                                                           std::string_view document,
                                                           bool set_as_default, bool rotate) {
  Params p{{"PolicyName", std::string(policy_name)},
           {"PolicyDocument", std::string(document)},
           {"SetAsDefault", set_as_default ? "true" : "false"}};
  if (rotate) p["RotateStrategy"] = "DeleteOldestNonDefaultVersionWhenLimitExceeded";
  const Call call = ram("CreatePolicyVersion", std::move(p), false);
  return detail::call_json(*this, call)
      .and_then(member("PolicyVersion", call))
      .transform([&](const json& v) {
        PolicyVersion version = parse_version(v);
        if (version.document.empty()) version.document = std::string(document);
        return version;
      });
}

Result<void> AlibabaClient::delete_policy_version(std::string_view policy_name,
                                                  std::string_view version_id) {
  return invoke(
             ram("DeletePolicyVersion",
                 {{"PolicyName", std::string(policy_name)}, {"VersionId", std::string(version_id)}},
                 false))
      .transform([](const std::string&) {});
}

Result<void> AlibabaClient::set_default_policy_version(std::string_view policy_name,
                                                       std::string_view version_id) {
  return invoke(
             ram("SetDefaultPolicyVersion",
                 {{"PolicyName", std::string(policy_name)}, {"VersionId", std::string(version_id)}},
                 false))
      .transform([](const std::string&) {});
}

Result<void> AlibabaClient::attach_policy_to_role(std::string_view policy_type,
                                                  std::string_view policy_name,
                                                  std::string_view role_name) {
  return invoke(ram("AttachPolicyToRole",
                    {{"PolicyType", std::string(policy_type)},
                     {"PolicyName", std::string(policy_name)},
                     {"RoleName", std::string(role_name)}},
                    false))
      .transform([](const std::string&) {})
      .or_else(success_if("EntityAlreadyExists.Role.Policy"));  // already attached: idempotent
}

Result<void> AlibabaClient::detach_policy_from_role(std::string_view policy_type,
                                                    std::string_view policy_name,
                                                    std::string_view role_name) {
  return invoke(ram("DetachPolicyFromRole",
                    {{"PolicyType", std::string(policy_type)},
                     {"PolicyName", std::string(policy_name)},
                     {"RoleName", std::string(role_name)}},
                    false))
      .transform([](const std::string&) {})
      .or_else(success_if("EntityNotExist.Role.Policy"));  // not attached: the state we wanted
}

Result<void> AlibabaClient::tag_resources(std::string_view resource_type,
                                          const std::vector<std::string>& names,
                                          const std::vector<Tag>& tags) {
  if (names.empty() || tags.empty()) return {};
  for (const auto& name_chunk : detail::chunks(names, kMaxTagResourceNames)) {
    for (const auto& tag_chunk : detail::chunks(tags, kMaxTagsPerCall)) {
      SK_TRY_VOID(invoke(ram("TagResources",
                             {{"ResourceType", std::string(resource_type)},
                              {"ResourceNames", detail::json_strings(name_chunk)},
                              {"Tag", detail::json_tags(tag_chunk)}},
                             false)));
    }
  }
  return {};
}

Result<std::vector<TagResource>> AlibabaClient::list_tag_resources(
    std::string_view resource_type, const std::vector<std::string>& names) {
  std::vector<TagResource> out;
  if (names.empty()) return out;  // never "every tagged resource of the account" by accident
  for (const auto& chunk : detail::chunks(names, kMaxTagResourceNames)) {
    SK_TRY_VOID(detail::token_pages(
        *this,
        [&](const std::string& next_token) {
          Params p{{"ResourceType", std::string(resource_type)},
                   {"ResourceNames", detail::json_strings(chunk)},
                   {"PageSize", std::to_string(options_.page_size)}};
          if (!next_token.empty()) p["NextToken"] = next_token;
          return ram("ListTagResources", std::move(p), true);
        },
        [&](const json& page, const Call& call) -> Result<std::size_t> {
          const json* list = detail::items(page, "TagResources", "TagResource");
          if (list == nullptr) return detail::malformed(call, "TagResources is not a list");
          for (const auto& t : *list) {
            TagResource tr;
            tr.resource_type = detail::str(t, "ResourceType");
            tr.resource_name = detail::str(t, "ResourceName");
            tr.key = detail::str(t, "TagKey");
            tr.value = detail::str(t, "TagValue");
            out.push_back(std::move(tr));
          }
          return list->size();
        }));
  }
  return out;
}

}  // namespace sharekeeper::cloud
