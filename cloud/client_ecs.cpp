// ECS (regional, 2014-05-26) typed calls: docs/alibaba-api.md §5.
#include <functional>
#include <map>
#include <optional>
#include <set>

#include "cloud/client_internal.hpp"
#include "support/parallel.hpp"
#include "support/wire.hpp"

namespace sharekeeper::cloud {
namespace {

using detail::json;

// TagResources / UntagResources: ResourceId.N up to 50, Tag.N / TagKey.N up to 20 per request
// (NumberExceed.ResourceIds / NumberExceed.Tags otherwise).
constexpr std::size_t kMaxTagResourceIds = 50;
constexpr std::size_t kMaxTagsPerCall = 20;

AlibabaClient::Call ecs(std::string_view action, std::string_view region, Params params,
                        bool read_only) {
  // RegionId is required on every ECS call even though the endpoint is regional already.
  params["RegionId"] = std::string(region);
  return AlibabaClient::Call{"ecs",  wire::kEcsVersion, action,
                             region, std::move(params), read_only};
}

void add_tag_filter(Params& p, const std::vector<Tag>& tags) {
  for (std::size_t i = 0; i < tags.size(); ++i) {
    const std::string n = std::to_string(i + 1);
    p["Tag." + n + ".Key"] = tags[i].key;
    p["Tag." + n + ".Value"] = tags[i].value;
  }
}

Snapshot parse_snapshot(const json& s, std::string_view region) {
  Snapshot snap;
  snap.snapshot_id = detail::str(s, "SnapshotId");
  snap.region_id = detail::str(s, "RegionId");
  if (snap.region_id.empty()) snap.region_id = std::string(region);
  snap.status = detail::str(s, "Status");
  snap.encrypted = detail::boolean(s, "Encrypted");
  snap.kms_key_id = detail::str(s, "KMSKeyId");
  snap.tags = detail::tags(s);
  return snap;
}

Result<Image> parse_image(const json& i, const AlibabaClient::Call& call) {
  Image image;
  image.image_id = detail::str(i, "ImageId");
  image.image_name = detail::str(i, "ImageName");
  // ImageOwnerId is a JSON int64: str() renders integers digit for digit, never through double.
  image.owner_id = detail::str(i, "ImageOwnerId");
  image.status = detail::str(i, "Status");
  image.is_public = detail::boolean(i, "IsPublic");
  image.tags = detail::tags(i);
  const json* disks = detail::items(i, "DiskDeviceMappings", "DiskDeviceMapping");
  if (disks == nullptr) return detail::malformed(call, "DiskDeviceMappings is not a list");
  for (const auto& d : *disks) {
    DiskMapping m;
    m.snapshot_id = detail::str(d, "SnapshotId");
    m.type = detail::str(d, "Type");
    m.device = detail::str(d, "Device");
    image.disks.push_back(std::move(m));
  }
  return image;
}

}  // namespace

Result<std::vector<Snapshot>> AlibabaClient::describe_snapshots(
    std::string_view region, const std::vector<std::string>& snapshot_ids,
    const std::vector<Tag>& tag_filter) {
  std::vector<Snapshot> out;
  // Neither ids nor tags would list every snapshot of the region: never do that by accident.
  if (snapshot_ids.empty() && tag_filter.empty()) return out;
  std::vector<std::vector<std::string>> id_chunks =
      detail::chunks(snapshot_ids, wire::kMaxSnapshotIdsPerDescribe);
  if (id_chunks.empty()) id_chunks.emplace_back();  // tags only: one unfiltered-by-id listing
  for (const auto& ids : id_chunks) {
    auto paged = detail::token_pages(
        *this,
        [&](const std::string& next_token) {
          Params p{{"MaxResults", std::to_string(options_.page_size)}};
          if (!ids.empty())
            p["SnapshotIds"] = detail::json_strings(ids);  // a JSON array in one string
          add_tag_filter(p, tag_filter);
          if (!next_token.empty()) p["NextToken"] = next_token;
          return ecs("DescribeSnapshots", region, std::move(p), true);
        },
        [&](const json& page, const Call& call) -> Result<std::size_t> {
          const json* list = detail::items(page, "Snapshots", "Snapshot");
          if (list == nullptr) return detail::malformed(call, "Snapshots.Snapshot is not a list");
          for (const auto& s : *list) out.push_back(parse_snapshot(s, region));
          return list->size();
        });
    if (!paged) return std::move(paged).error();
  }
  return out;
}

Result<std::vector<Image>> AlibabaClient::describe_images(std::string_view region,
                                                          const std::vector<std::string>& image_ids,
                                                          const std::vector<Tag>& tag_filter) {
  if (image_ids.empty() && tag_filter.empty()) return std::vector<Image>{};
  // docs/alibaba-api.md documents ImageId as a single id (the SDKs' request models type it as one
  // string, which neither confirms nor rules out a comma list): never a comma list.
  if (image_ids.size() < 2 || !tag_filter.empty()) {
    std::vector<std::string> ids = image_ids;
    if (ids.empty()) ids.emplace_back();
    return own_images(region, ids, tag_filter);
  }
  // Several ids: the account's own images of the region, 100 a page, for as long as the pages
  // left cost fewer calls than looking up one by one the ids not seen yet. A listing only proves
  // that an image is there: whatever it did not show (absent, or moved between two pages by a
  // concurrent change) is then looked up by its id.
  const std::set<std::string> wanted(image_ids.begin(), image_ids.end());
  std::map<std::string, Image> seen;
  const auto page_size = static_cast<std::int64_t>(std::max(1, options_.page_size));
  auto listed = image_pages(
      region, "", {},
      [&](Image image) {
        if (wanted.count(image.image_id) != 0U) {
          std::string id = image.image_id;
          seen.insert_or_assign(std::move(id), std::move(image));
        }
      },
      [&](std::int64_t listed_so_far, std::int64_t total) {
        const std::int64_t pages_left = (total - listed_so_far + page_size - 1) / page_size;
        const auto unseen = static_cast<std::int64_t>(wanted.size() - seen.size());
        return unseen > 0 && pages_left <= unseen;
      });
  if (!listed) return std::move(listed).error();
  std::vector<std::string> rest;
  for (const auto& id : wanted)
    if (seen.count(id) == 0U) rest.push_back(id);
  if (!rest.empty()) {
    auto looked_up = own_images(region, rest, {});
    if (!looked_up) return std::move(looked_up).error();
    for (auto& image : *looked_up) {
      std::string id = image.image_id;
      seen.insert_or_assign(std::move(id), std::move(image));
    }
  }
  // In the order asked, as one lookup per id would answer (an id asked twice, once).
  std::vector<Image> out;
  for (const auto& id : image_ids)
    if (auto found = seen.extract(id)) out.push_back(std::move(found.mapped()));
  return out;
}

Result<std::vector<std::string>> AlibabaClient::describe_regions(std::string_view region) {
  const Call call = ecs("DescribeRegions", region, {}, true);
  auto j = detail::call_json(*this, call);
  if (!j) return j.error();
  const json* list = detail::items(*j, "Regions", "Region");
  if (list == nullptr) return detail::malformed(call, "Regions.Region is not a list");
  std::vector<std::string> out;
  for (const auto& r : *list) {
    std::string id = detail::str(r, "RegionId");
    if (id.empty()) return detail::malformed(call, "a Regions.Region entry has no RegionId");
    out.push_back(std::move(id));
  }
  return out;
}

Result<std::vector<Image>> AlibabaClient::list_own_images(std::string_view region) {
  return own_images(region, {std::string()}, {});
}

Result<void> AlibabaClient::image_pages(
    std::string_view region, const std::string& id, const std::vector<Tag>& tag_filter,
    const std::function<void(Image)>& on_image,
    const std::function<bool(std::int64_t, std::int64_t)>& more) {
  return detail::numbered_pages(
      *this,
      [&](int page) {
        // Only our own images can be shared: never pick up public or marketplace images by tag.
        Params p{{"ImageOwnerAlias", "self"},
                 {"PageNumber", std::to_string(page)},
                 {"PageSize", std::to_string(options_.page_size)}};
        if (!id.empty()) p["ImageId"] = id;
        add_tag_filter(p, tag_filter);
        return ecs("DescribeImages", region, std::move(p), true);
      },
      [&](const json& page, const Call& call) -> Result<std::size_t> {
        const json* list = detail::items(page, "Images", "Image");
        if (list == nullptr) return detail::malformed(call, "Images.Image is not a list");
        for (const auto& i : *list) {
          auto image = parse_image(i, call);
          if (!image) return image.error();
          on_image(std::move(*image));
        }
        return list->size();
      },
      more);
}

Result<std::vector<Image>> AlibabaClient::own_images(std::string_view region,
                                                     const std::vector<std::string>& ids,
                                                     const std::vector<Tag>& tag_filter) {
  // Looked up side by side, `fan_out` at a time, and merged in the order given.
  std::vector<Image> out;
  std::vector<std::vector<Image>> found(ids.size());
  std::vector<std::optional<Error>> failed(ids.size());
  support::parallel_for(
      ids.size(), static_cast<std::size_t>(std::max(1, options_.fan_out)), [&](std::size_t n) {
        auto paged = image_pages(region, ids[n], tag_filter,
                                 [&](Image image) { found[n].push_back(std::move(image)); });
        if (!paged) failed[n] = std::move(paged).error();
      });
  for (std::size_t n = 0; n < ids.size(); ++n) {
    if (failed[n]) return std::move(*failed[n]);
    out.insert(out.end(), std::make_move_iterator(found[n].begin()),
               std::make_move_iterator(found[n].end()));
  }
  return out;
}

Result<std::vector<std::string>> AlibabaClient::describe_image_share_permission(
    std::string_view region, std::string_view image_id) {
  std::vector<std::string> out;
  auto paged = detail::numbered_pages(
      *this,
      [&](int page) {
        return ecs("DescribeImageSharePermission", region,
                   {{"ImageId", std::string(image_id)},
                    {"PageNumber", std::to_string(page)},
                    {"PageSize", std::to_string(options_.page_size)}},
                   true);
      },
      [&](const json& page, const Call& call) -> Result<std::size_t> {
        const json* list = detail::items(page, "Accounts", "Account");
        if (list == nullptr) return detail::malformed(call, "Accounts.Account is not a list");
        for (const auto& a : *list) {
          std::string uid = detail::str(a, "AliyunId");  // a string, or an int64 rendered exactly
          if (uid.empty()) return detail::malformed(call, "Account without AliyunId");
          out.push_back(std::move(uid));
        }
        return list->size();
      });
  if (!paged) return std::move(paged).error();
  return out;
}

Result<void> AlibabaClient::modify_image_share_permission(
    std::string_view region, std::string_view image_id,
    const std::vector<std::string>& add_accounts, const std::vector<std::string>& remove_accounts) {
  // The API processes only the first 10 AddAccount.N / RemoveAccount.N and silently ignores the
  // rest.
  const auto adds = detail::chunks(add_accounts, wire::kMaxImageShareAccountsPerCall);
  const auto removes = detail::chunks(remove_accounts, wire::kMaxImageShareAccountsPerCall);
  const std::size_t calls = std::max(adds.size(), removes.size());
  for (std::size_t c = 0; c < calls; ++c) {
    Params p{{"ImageId", std::string(image_id)}};  // never IsPublic: sharing stays private
    if (c < adds.size()) {
      for (std::size_t i = 0; i < adds[c].size(); ++i)
        p["AddAccount." + std::to_string(i + 1)] = adds[c][i];
    }
    if (c < removes.size()) {
      for (std::size_t i = 0; i < removes[c].size(); ++i) {
        p["RemoveAccount." + std::to_string(i + 1)] = removes[c][i];
      }
    }
    auto body = invoke(ecs("ModifyImageSharePermission", region, std::move(p), false));
    if (!body) return body.error();
  }
  return {};
}

Result<void> AlibabaClient::tag_ecs_resources(std::string_view region,
                                              std::string_view resource_type,
                                              const std::vector<std::string>& resource_ids,
                                              const std::vector<Tag>& tags) {
  // Every id gets every tag: each chunk of ids is sent with each chunk of tags.
  for (const auto& ids : detail::chunks(resource_ids, kMaxTagResourceIds)) {
    for (const auto& some : detail::chunks(tags, kMaxTagsPerCall)) {
      Params p{{"ResourceType", std::string(resource_type)}};
      for (std::size_t i = 0; i < ids.size(); ++i)
        p["ResourceId." + std::to_string(i + 1)] = ids[i];
      add_tag_filter(p, some);  // the same Tag.N.Key / Tag.N.Value style
      auto body = invoke(ecs("TagResources", region, std::move(p), false));
      if (!body) return body.error();
    }
  }
  return {};
}

Result<void> AlibabaClient::untag_ecs_resources(std::string_view region,
                                                std::string_view resource_type,
                                                const std::vector<std::string>& resource_ids,
                                                const std::vector<std::string>& tag_keys) {
  // Never All=true: an empty key list removes nothing (not every tag of the resources).
  for (const auto& ids : detail::chunks(resource_ids, kMaxTagResourceIds)) {
    for (const auto& keys : detail::chunks(tag_keys, kMaxTagsPerCall)) {
      Params p{{"ResourceType", std::string(resource_type)}};
      for (std::size_t i = 0; i < ids.size(); ++i)
        p["ResourceId." + std::to_string(i + 1)] = ids[i];
      for (std::size_t i = 0; i < keys.size(); ++i) p["TagKey." + std::to_string(i + 1)] = keys[i];
      auto body = invoke(ecs("UntagResources", region, std::move(p), false));
      if (!body) return body.error();
    }
  }
  return {};
}

}  // namespace sharekeeper::cloud
