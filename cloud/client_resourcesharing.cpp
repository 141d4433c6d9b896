// Resource Sharing (regional, 2020-01-10) typed calls: docs/alibaba-api.md §7. Bare-array
// responses, NextToken paging, at most 5 resources and 5 targets per call.
#include "cloud/client_internal.hpp"
#include "support/wire.hpp"

namespace sharekeeper::cloud {
namespace {

using detail::json;

constexpr std::size_t kPerCall = wire::kMaxResourceSharingItemsPerCall;

AlibabaClient::Call rs(std::string_view action, std::string_view region, Params params,
                       bool read_only) {
  return AlibabaClient::Call{
      "resourcesharing", wire::kResourceSharingVersion, action, region, std::move(params),
      read_only};
}

void add_resources(Params& p, const std::vector<ShareResource>& resources) {
  for (std::size_t i = 0; i < resources.size(); ++i) {
    const std::string n = std::to_string(i + 1);
    p["Resources." + n + ".ResourceType"] = resources[i].type;
    p["Resources." + n + ".ResourceId"] = resources[i].id;
  }
}

void add_list(Params& p, std::string_view name, const std::vector<std::string>& values) {
  for (std::size_t i = 0; i < values.size(); ++i)
    p[std::string(name) + "." + std::to_string(i + 1)] = values[i];
}

void add_tags(Params& p, const std::vector<Tag>& tags) {
  for (std::size_t i = 0; i < tags.size(); ++i) {
    const std::string n = std::to_string(i + 1);
    p["Tag." + n + ".Key"] = tags[i].key;
    p["Tag." + n + ".Value"] = tags[i].value;
  }
}

ResourceShare parse_share(const json& s) {
  ResourceShare share;
  share.resource_share_id = detail::str(s, "ResourceShareId");
  share.resource_share_name = detail::str(s, "ResourceShareName");
  share.resource_share_owner = detail::str(s, "ResourceShareOwner");  // a string, or int64 digits
  share.resource_share_status = detail::str(s, "ResourceShareStatus");
  share.allow_external_targets = detail::boolean(s, "AllowExternalTargets");
  share.tags = detail::tags(s);  // Tags[]{Key, Value}, a bare array
  share.create_time = detail::str(s, "CreateTime");
  share.update_time = detail::str(s, "UpdateTime");
  return share;
}

Result<ResourceShareAssociation> parse_association(const json& a, const AlibabaClient::Call& call) {
  ResourceShareAssociation out;
  out.resource_share_id = detail::str(a, "ResourceShareId");
  out.resource_share_name = detail::str(a, "ResourceShareName");
  out.entity_id = detail::str(a, "EntityId");
  out.entity_type = detail::str(a, "EntityType");
  out.association_type = detail::str(a, "AssociationType");
  out.association_status = detail::str(a, "AssociationStatus");
  out.association_status_message = detail::str(a, "AssociationStatusMessage");
  out.external = detail::boolean(a, "External");
  out.create_time = detail::str(a, "CreateTime");
  out.update_time = detail::str(a, "UpdateTime");
  const json* failed = detail::items(a, "AssociationFailedDetails", "AssociationFailedDetail");
  if (failed == nullptr) return detail::malformed(call, "AssociationFailedDetails is not a list");
  for (const auto& f : *failed) {
    if (!f.is_object()) continue;
    AssociationFailure d;
    d.entity_id = detail::str(f, "EntityId");
    d.entity_type = detail::str(f, "EntityType");
    // FailureReason / FailureDescription / OperationType replaced the deprecated Status /
    // StatusMessage / AssociateType; read the old names when only they are sent.
    d.failure_reason =
        f.contains("FailureReason") ? detail::str(f, "FailureReason") : detail::str(f, "Status");
    d.failure_description = f.contains("FailureDescription") ? detail::str(f, "FailureDescription")
                                                             : detail::str(f, "StatusMessage");
    d.operation_type = f.contains("OperationType") ? detail::str(f, "OperationType")
                                                   : detail::str(f, "AssociateType");
    out.failures.push_back(std::move(d));
  }
  if (out.entity_id.empty()) return detail::malformed(call, "association without EntityId");
  return out;
}

Result<std::vector<ResourceShareAssociation>> associations_of(const json& j,
                                                              const AlibabaClient::Call& call) {
  const json* list = detail::items(j, "ResourceShareAssociations", "ResourceShareAssociation");
  if (list == nullptr) return detail::malformed(call, "ResourceShareAssociations is not a list");
  std::vector<ResourceShareAssociation> out;
  for (const auto& a : *list) {
    auto one = parse_association(a, call);
    if (!one) return one.error();
    out.push_back(std::move(*one));
  }
  return out;
}

Result<ResourceShare> share_of(const std::string& body, const AlibabaClient::Call& call) {
  auto j = detail::parse_body(body, call);
  if (!j) return j.error();
  auto s = j->find("ResourceShare");
  if (s == j->end() || !s->is_object())
    return detail::malformed(call, "response has no ResourceShare object");
  ResourceShare share = parse_share(*s);
  if (share.resource_share_id.empty())
    return detail::malformed(call, "ResourceShare without ResourceShareId");
  return share;
}

Result<std::vector<ResourceShareAssociation>> parse_associations(const std::string& body,
                                                                 const AlibabaClient::Call& call) {
  auto j = detail::parse_body(body, call);
  if (!j) return j.error();
  return associations_of(*j, call);
}

}  // namespace

Result<std::vector<ResourceShare>> AlibabaClient::list_resource_shares(
    std::string_view region, const ResourceShareFilter& filter) {
  std::vector<ResourceShare> out;
  auto id_chunks = detail::chunks(filter.resource_share_ids, kPerCall);  // ResourceShareIds.N <= 5
  if (id_chunks.empty()) id_chunks.emplace_back();
  for (const auto& ids : id_chunks) {
    auto paged = detail::token_pages(
        *this,
        [&](const std::string& next_token) {
          Params p{{"ResourceOwner", "Self"}, {"MaxResults", std::to_string(options_.page_size)}};
          add_list(p, "ResourceShareIds", ids);
          if (!filter.name.empty()) p["ResourceShareName"] = filter.name;
          if (!filter.status.empty()) p["ResourceShareStatus"] = filter.status;
          add_tags(p, filter.tags);
          if (!next_token.empty()) p["NextToken"] = next_token;
          return rs("ListResourceShares", region, std::move(p), true);
        },
        [&](const json& page, const Call& call) -> Result<std::size_t> {
          const json* list = detail::items(page, "ResourceShares", "ResourceShare");
          if (list == nullptr) return detail::malformed(call, "ResourceShares is not a list");
          for (const auto& s : *list) {
            ResourceShare share = parse_share(s);
            if (share.resource_share_id.empty())
              return detail::malformed(call, "ResourceShare without ResourceShareId");
            out.push_back(std::move(share));
          }
          return list->size();
        });
    if (!paged) return std::move(paged).error();
  }
  return out;
}

Result<ResourceShare> AlibabaClient::create_resource_share(
    std::string_view region, std::string_view name, const std::vector<ShareResource>& resources,
    const std::vector<std::string>& targets, bool allow_external_targets,
    const std::vector<Tag>& tags) {
  // The first 5 resources and 5 targets travel with the create; the rest are associated afterwards.
  const std::vector<ShareResource> first_resources(
      resources.begin(),
      resources.begin() + static_cast<std::ptrdiff_t>(std::min(resources.size(), kPerCall)));
  const std::vector<std::string> first_targets(
      targets.begin(),
      targets.begin() + static_cast<std::ptrdiff_t>(std::min(targets.size(), kPerCall)));
  Params p{{"ResourceShareName", std::string(name)},
           {"AllowExternalTargets", allow_external_targets ? "true" : "false"}};
  add_resources(p, first_resources);
  add_list(p, "Targets", first_targets);
  add_tags(p, tags);
  const Call call = rs("CreateResourceShare", region, std::move(p), false);
  auto body = invoke(call);
  if (!body) return body.error();
  auto created = share_of(*body, call);
  if (!created) return created.error();
  ResourceShare share = std::move(*created);
  // The answer carries no tags; report the ones the share was created with.
  share.tags = tags;

  const std::vector<ShareResource> rest_resources(
      resources.begin() + static_cast<std::ptrdiff_t>(first_resources.size()), resources.end());
  const std::vector<std::string> rest_targets(
      targets.begin() + static_cast<std::ptrdiff_t>(first_targets.size()), targets.end());
  if (!rest_resources.empty() || !rest_targets.empty()) {
    // The share exists now; if this fails the caller re-observes it by name and associates the
    // rest.
    auto more =
        associate_resource_share(region, share.resource_share_id, rest_resources, rest_targets);
    if (!more) return more.error();
  }
  return share;
}

Result<ResourceShare> AlibabaClient::update_resource_share(std::string_view region,
                                                           std::string_view resource_share_id,
                                                           std::string_view name,
                                                           bool allow_external_targets) {
  const Call call = rs("UpdateResourceShare", region,
                       {{"ResourceShareId", std::string(resource_share_id)},
                        {"ResourceShareName", std::string(name)},
                        {"AllowExternalTargets", allow_external_targets ? "true" : "false"}},
                       false);
  auto body = invoke(call);
  if (!body) return body.error();
  return share_of(*body, call);
}

Result<void> AlibabaClient::delete_resource_share(std::string_view region,
                                                  std::string_view resource_share_id) {
  auto body = invoke(rs("DeleteResourceShare", region,
                        {{"ResourceShareId", std::string(resource_share_id)}}, false));
  // Already gone is what the caller wanted (a retry after an unknown outcome lands here).
  if (!body && body.error().is("EntityNotExists.ResourceShare")) return {};
  if (!body) return body.error();
  return {};
}

namespace {

template <class Send>
Result<std::vector<ResourceShareAssociation>> chunked_associations(
    const std::vector<ShareResource>& resources, const std::vector<std::string>& targets,
    Send&& send) {
  std::vector<ResourceShareAssociation> out;
  const auto rc = detail::chunks(resources, kPerCall);
  const auto tc = detail::chunks(targets, kPerCall);
  const std::size_t calls = std::max(rc.size(), tc.size());
  for (std::size_t c = 0; c < calls; ++c) {
    Params p;
    if (c < rc.size()) add_resources(p, rc[c]);
    if (c < tc.size()) add_list(p, "Targets", tc[c]);
    auto part = send(std::move(p));
    if (!part) return part.error();
    out.insert(out.end(), part->begin(), part->end());
  }
  return out;
}

}  // namespace

Result<std::vector<ResourceShareAssociation>> AlibabaClient::associate_resource_share(
    std::string_view region, std::string_view resource_share_id,
    const std::vector<ShareResource>& resources, const std::vector<std::string>& targets) {
  return chunked_associations(
      resources, targets, [&](Params p) -> Result<std::vector<ResourceShareAssociation>> {
        p["ResourceShareId"] = std::string(resource_share_id);
        const Call call = rs("AssociateResourceShare", region, std::move(p), false);
        auto body = invoke(call);
        if (!body) return body.error();
        return parse_associations(*body, call);
      });
}

Result<std::vector<ResourceShareAssociation>> AlibabaClient::disassociate_resource_share(
    std::string_view region, std::string_view resource_share_id,
    const std::vector<ShareResource>& resources, const std::vector<std::string>& targets) {
  return chunked_associations(
      resources, targets, [&](Params p) -> Result<std::vector<ResourceShareAssociation>> {
        p["ResourceShareId"] = std::string(resource_share_id);
        const Call call = rs("DisassociateResourceShare", region, std::move(p), false);
        auto body = invoke(call);
        if (!body) return body.error();
        return parse_associations(*body, call);
      });
}

Result<std::vector<ResourceShareAssociation>> AlibabaClient::list_resource_share_associations(
    std::string_view region, std::string_view association_type,
    const std::vector<std::string>& resource_share_ids) {
  std::vector<ResourceShareAssociation> out;
  auto id_chunks = detail::chunks(resource_share_ids, kPerCall);  // ResourceShareIds.N: at most 5
  if (id_chunks.empty()) id_chunks.emplace_back();                // every share of the account
  for (const auto& ids : id_chunks) {
    auto paged = detail::token_pages(
        *this,
        [&](const std::string& next_token) {
          Params p{{"AssociationType", std::string(association_type)},
                   {"MaxResults", std::to_string(options_.page_size)}};
          add_list(p, "ResourceShareIds", ids);
          if (!next_token.empty()) p["NextToken"] = next_token;
          return rs("ListResourceShareAssociations", region, std::move(p), true);
        },
        [&](const json& page, const Call& call) -> Result<std::size_t> {
          auto part = associations_of(page, call);
          if (!part) return part.error();
          out.insert(out.end(), part->begin(), part->end());
          return part->size();
        });
    if (!paged) return std::move(paged).error();
  }
  return out;
}

}  // namespace sharekeeper::cloud
