// KMS (regional, 2016-01-20) typed calls: docs/alibaba-api.md §6.
#include "cloud/client_internal.hpp"
#include "support/wire.hpp"

namespace sharekeeper::cloud {

Result<std::optional<KeyMetadata>> AlibabaClient::describe_key(std::string_view region,
                                                               std::string_view key_id) {
  const Call call{"kms", wire::kKmsVersion, "DescribeKey", region, {{"KeyId", std::string(key_id)}},
                  true};
  auto body = invoke(call);
  if (!body) {
    // Forbidden.KeyNotFound / Forbidden.AliasNotFound (404): the key is absent, a normal answer.
    if (body.error().cls == ErrorClass::kNotFound) return std::optional<KeyMetadata>{};
    return body.error();
  }
  auto j = detail::parse_body(*body, call);
  if (!j) return j.error();
  auto m = j->find("KeyMetadata");
  if (m == j->end() || !m->is_object())
    return detail::malformed(call, "response has no KeyMetadata object");
  KeyMetadata k;
  k.key_id = detail::str(*m, "KeyId");
  k.arn = detail::str(*m, "Arn");
  k.creator = detail::str(*m, "Creator");  // owner UID (maybe numeric in JSON) or a service name
  k.key_state = detail::str(*m, "KeyState");
  k.key_usage = detail::str(*m, "KeyUsage");
  k.key_spec = detail::str(*m, "KeySpec");
  k.origin = detail::str(*m, "Origin");
  k.protection_level = detail::str(*m, "ProtectionLevel");
  return std::optional<KeyMetadata>(std::move(k));
}

Result<std::vector<std::string>> AlibabaClient::list_aliases_by_key_id(std::string_view region,
                                                                       std::string_view key_id) {
  std::vector<std::string> out;
  auto paged = detail::numbered_pages(
      *this,
      [&](int page) {
        return Call{"kms",
                    wire::kKmsVersion,
                    "ListAliasesByKeyId",
                    region,
                    {{"KeyId", std::string(key_id)},
                     {"PageNumber", std::to_string(page)},
                     {"PageSize", std::to_string(options_.page_size)}},
                    true};
      },
      [&](const detail::json& page, const Call& call) -> Result<std::size_t> {
        const detail::json* list = detail::items(page, "Aliases", "Alias");
        if (list == nullptr) return detail::malformed(call, "Aliases.Alias is not a list");
        for (const auto& a : *list) out.push_back(detail::str(a, "AliasName"));
        return list->size();
      });
  if (!paged) return std::move(paged).error();
  return out;
}

}  // namespace sharekeeper::cloud
