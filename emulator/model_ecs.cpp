// ECS (docs/alibaba-api.md §5; ECS 2014-05-26 API reference): DescribeSnapshots, DescribeImages,
// DescribeImageSharePermission, ModifyImageSharePermission — with the 10-accounts-per-call silent
// truncation, the 50-account quota, service-key images refused, a disabled CMK refused, and
// AssumeRoleError when the image share role does not trust a recipient — DeleteImage (refused while
// shared: ImageUseShared) and the tag APIs for images and snapshots (TagResources, UntagResources,
// ListTagResources).
#include <algorithm>
#include <set>

#include "emulator/model_state.hpp"
#include "emulator/policy_eval.hpp"
#include "support/wire.hpp"

namespace sharekeeper::emulator {

namespace {

using nlohmann::json;

struct Ctx {
  State& state;
  const ModelOptions& options;
  const ApiCall& call;
  Account& acc;
};

Region* region_of(Account& acc, const std::string& region) {
  auto it = acc.regions.find(region);
  return it == acc.regions.end() ? nullptr : &it->second;
}

json tags_json(const Tags& tags) {
  json list = json::array();
  for (const auto& [k, v] : tags) list.push_back({{"TagKey", k}, {"TagValue", v}});
  return {{"Tag", list}};
}

struct Paging {
  std::size_t begin = 0;
  std::size_t size = 10;
  long page_number = 1;
  bool token_mode = false;
};

// PageNumber/PageSize (default 10, max 100): the older, still accepted paging.
Paging page_number_paging(const ApiCall& call) {
  Paging p;
  p.page_number = int_param(call, "PageNumber", 1, 1, 1000000);
  p.size = static_cast<std::size_t>(int_param(call, "PageSize", 10, 1, 100));
  p.begin = static_cast<std::size_t>(p.page_number - 1) * p.size;
  return p;
}

struct TimeWindow {
  std::optional<Clock::time_point> start;
  std::optional<Clock::time_point> end;
  bool contains(Clock::time_point t) const {
    return (!start || t >= *start) && (!end || t <= *end);
  }
};

// Filter.N.Key = CreationStartTime | CreationEndTime, values yyyy-MM-ddTHH:mmZ (seconds accepted
// too).
TimeWindow creation_window(const ApiCall& call, int max_filters) {
  TimeWindow w;
  auto filters = repeat_param(call, "Filter");
  if (!filters.empty() && filters.rbegin()->first > max_filters) {
    fail(400, "InvalidParameter.Filter", "At most " + std::to_string(max_filters) + " filters.");
  }
  for (const auto& [n, fields] : filters) {
    auto key = fields.find("Key");
    auto value = fields.find("Value");
    std::string k = key == fields.end() ? "" : key->second;
    if (k != "CreationStartTime" && k != "CreationEndTime") {
      fail(400, "InvalidFilterKey.NotFound",
           "The specified Filter." + std::to_string(n) + ".Key \"" + k + "\" is not supported.");
    }
    std::string v = value == fields.end() ? "" : value->second;
    std::optional<Clock::time_point> t;
    if (v.size() == 17 && v.back() == 'Z') t = parse_iso(v.substr(0, 16) + ":00Z");
    if (!t) t = parse_iso(v);
    if (!t) {
      fail(400, "InvalidFilterValue",
           "Filter." + std::to_string(n) + ".Value must be yyyy-MM-ddTHH:mmZ: " + v);
    }
    (k == "CreationStartTime" ? w.start : w.end) = t;
  }
  return w;
}

json snapshot_json(const Snapshot& s) {
  return {{"SnapshotId", s.id},
          {"SnapshotName", s.name},
          {"Description", s.description},
          {"Status", s.status},
          {"Progress", "100%"},
          {"CreationTime", iso_seconds(s.created)},
          {"LastModifiedTime", iso_seconds(s.created)},
          {"RegionId", s.region},
          {"SourceDiskId", s.source_disk_id},
          {"SourceDiskType", s.source_disk_type},
          {"SourceDiskSize", std::to_string(s.source_disk_size)},
          {"Encrypted", s.encrypted},
          {"KMSKeyId", s.kms_key_id},
          {"Usage", s.usage},
          {"SnapshotType", s.snapshot_type},
          {"Category", "standard"},
          {"InstantAccess", false},
          {"Available", s.status == "accomplished"},
          {"RetentionDays", 0},
          {"ResourceGroupId", ""},
          {"SnapshotSN", "64472-" + s.id.substr(2)},
          {"SourceSnapshotId", ""},
          {"SourceRegionId", ""},
          {"SnapshotLinkId", "sl-" + s.source_disk_id},
          {"ProductCode", ""},
          {"Tags", tags_json(s.tags)}};
}

ApiResponse describe_snapshots(Ctx& c) {
  std::string region = required_param(c.call, "RegionId");
  std::optional<std::set<std::string>> ids;
  if (const std::string* raw = find_param(c.call, "SnapshotIds"); raw && !raw->empty()) {
    json list = json::parse(*raw, nullptr, false);
    bool ok = list.is_array() &&
              std::all_of(list.begin(), list.end(), [](const json& e) { return e.is_string(); });
    // A JSON array of at most 100 ids; anything else is "malformed" (403 in ECS's metadata).
    if (!ok || list.size() > wire::kMaxSnapshotIdsPerDescribe) {
      fail(403, "InvalidSnapshotIds.Malformed",
           "The specified parameter SnapshotIds is not valid: a JSON array of at most 100 ids.");
    }
    ids.emplace();
    for (const auto& e : list) ids->insert(e.get<std::string>());
  }
  std::string status = param_or(c.call, "Status", "all");
  if (status != "progressing" && status != "accomplished" && status != "failed" &&
      status != "all") {
    fail(400, "InvalidStatus.NotFound", "The specified Status is not valid.");
  }
  std::string type = param_or(c.call, "SnapshotType", "all");
  if (type != "auto" && type != "user" && type != "all") {
    fail(400, "InvalidSnapshotType.NotFound", "The specified SnapshotType is not valid.");
  }
  std::string disk_type = param_or(c.call, "SourceDiskType", "");
  std::string usage = param_or(c.call, "Usage", "");
  std::string disk_id = param_or(c.call, "DiskId", "");
  std::string name = param_or(c.call, "SnapshotName", "");
  bool encrypted = bool_param(c.call, "Encrypted", false);  // false means "no filter"
  std::string key_id = param_or(c.call, "KMSKeyId", "");
  auto tag_filter = ecs_tag_filter(c.call);
  TimeWindow window = creation_window(c.call, 2);

  bool token_mode =
      find_param(c.call, "MaxResults") != nullptr || find_param(c.call, "NextToken") != nullptr;
  Paging page;
  if (token_mode) {
    page.token_mode = true;
    page.size = static_cast<std::size_t>(int_param(c.call, "MaxResults", 10, 1, 100));
    if (const std::string* t = find_param(c.call, "NextToken"); t && !t->empty()) {
      page.begin = parse_offset_token(*t, "NextToken");
    }
  } else {
    page = page_number_paging(c.call);
  }

  std::vector<const Snapshot*> matched;
  if (Region* r = region_of(c.acc, region)) {
    for (const auto& s : r->snapshots) {
      if (ids && ids->count(s.id) == 0) continue;
      if (status != "all" && s.status != status) continue;
      if (type != "all" && s.snapshot_type != type) continue;
      if (!disk_type.empty() && !iequals(disk_type, s.source_disk_type)) continue;
      if (!usage.empty() && usage != s.usage) continue;
      if (!disk_id.empty() && disk_id != s.source_disk_id) continue;
      if (!name.empty() && name != s.name) continue;
      if (encrypted && !s.encrypted) continue;
      if (!key_id.empty() && key_id != s.kms_key_id) continue;
      if (!tags_match(s.tags, tag_filter)) continue;
      if (!window.contains(s.created)) continue;
      matched.push_back(&s);
    }
  }
  json list = json::array();
  std::size_t end = std::min(matched.size(), page.begin + page.size);
  for (std::size_t i = page.begin; i < end; ++i) list.push_back(snapshot_json(*matched[i]));
  json body = {{"TotalCount", matched.size()},
               {"PageSize", page.size},
               {"PageNumber", page.page_number},
               {"Snapshots", {{"Snapshot", list}}}};
  body["NextToken"] = token_mode && end < matched.size() ? offset_token(end) : "";
  return ok(c.call, body);
}

const Snapshot* snapshot_in(const Account& acc, const std::string& region, const std::string& id) {
  auto it = acc.regions.find(region);
  if (it == acc.regions.end()) return nullptr;
  for (const auto& s : it->second.snapshots) {
    if (s.id == id) return &s;
  }
  return nullptr;
}

json image_json(const Account& owner, const Image& img, bool own) {
  json maps = json::array();
  for (const auto& m : img.mappings) {
    const Snapshot* s = snapshot_in(owner, img.region, m.snapshot_id);
    maps.push_back({{"SnapshotId", m.snapshot_id},
                    {"Type", m.type},
                    {"Device", m.device},
                    {"Size", std::to_string(m.size)},
                    {"Format", ""},
                    {"Encrypted", s != nullptr && s->encrypted},
                    {"Progress", "100%"},
                    {"RemainTime", 0},
                    {"ImportOSSBucket", ""},
                    {"ImportOSSObject", ""}});
  }
  return {{"ImageId", img.id},
          {"ImageName", img.name},
          {"ImageOwnerAlias", own ? "self" : "others"},
          // A number in ECS's JSON (int64), unlike every other account id (docs/alibaba-api.md §9).
          {"ImageOwnerId", std::stoll(owner.uid)},
          {"IsPublic", img.is_public},
          {"IsSelfShared", img.shares.empty() ? "false" : "true"},
          {"IsCopied", false},
          {"IsSubscribed", false},
          {"IsSupportCloudinit", true},
          {"IsSupportIoOptimized", true},
          {"Status", img.status},
          {"Progress", "100%"},
          {"CreationTime", iso_seconds(img.created)},
          {"Size", img.size},
          {"OSType", img.os_type},
          {"OSName", img.platform},
          {"Architecture", img.architecture},
          {"Platform", img.platform},
          {"Usage", "none"},
          {"ResourceGroupId", ""},
          {"Description", ""},
          {"Tags", tags_json(img.tags)},
          {"DiskDeviceMappings", {{"DiskDeviceMapping", maps}}}};
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    std::size_t comma = s.find(',', start);
    std::string part =
        s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!part.empty()) out.push_back(part);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

ApiResponse describe_images(Ctx& c) {
  std::string region = required_param(c.call, "RegionId");
  std::string alias = param_or(c.call, "ImageOwnerAlias", "");
  if (!alias.empty() && alias != "self" && alias != "others" && alias != "system" &&
      alias != "marketplace") {
    fail(400, "InvalidImageOwnerAlias.ValueNotSupported",
         "The specified ImageOwnerAlias is not supported.");
  }
  auto wanted_ids = split_commas(param_or(c.call, "ImageId", ""));
  auto statuses = split_commas(param_or(c.call, "Status", "Available"));
  bool any_status = std::any_of(statuses.begin(), statuses.end(),
                                [](const std::string& s) { return iequals(s, "ALL"); });
  std::string name = param_or(c.call, "ImageName", "");
  std::string snapshot_id = param_or(c.call, "SnapshotId", "");
  auto tag_filter = ecs_tag_filter(c.call);
  TimeWindow window = creation_window(c.call, 10);
  Paging page = page_number_paging(c.call);

  std::vector<std::pair<const Account*, const Image*>> matched;
  auto consider = [&](const Account& owner, const Image& img, bool own) {
    if (!wanted_ids.empty() &&
        std::find(wanted_ids.begin(), wanted_ids.end(), img.id) == wanted_ids.end()) {
      return;
    }
    if (!any_status && std::find(statuses.begin(), statuses.end(), img.status) == statuses.end()) {
      return;
    }
    if (!name.empty() && img.name.find(name) == std::string::npos) return;
    if (!window.contains(img.created)) return;
    if (!snapshot_id.empty() &&
        std::none_of(img.mappings.begin(), img.mappings.end(),
                     [&](const DiskMapping& m) { return m.snapshot_id == snapshot_id; })) {
      return;
    }
    // Tags are the owner's; a recipient does not see them as filters on shared images.
    if (!tags_match(own ? img.tags : Tags{}, tag_filter)) return;
    matched.emplace_back(&owner, &img);
  };
  for (const auto& owner : c.state.accounts) {
    bool own = owner.uid == c.acc.uid;
    if (own && !(alias.empty() || alias == "self")) continue;
    if (!own && !(alias.empty() || alias == "others")) continue;
    auto it = owner.regions.find(region);
    if (it == owner.regions.end()) continue;
    for (const auto& img : it->second.images) {
      // Shared images: by share permission, or by an Associated resource share of type Image.
      if (!own &&
          std::none_of(img.shares.begin(), img.shares.end(),
                       [&](const ImageShare& s) { return s.account_uid == c.acc.uid; }) &&
          !shared_through_resource_sharing(c.state, c.options, owner.uid, img.id, c.acc.uid,
                                           c.call.now)) {
        continue;
      }
      consider(owner, img, own);
    }
  }
  json list = json::array();
  std::size_t end = std::min(matched.size(), page.begin + page.size);
  for (std::size_t i = page.begin; i < end; ++i) {
    list.push_back(
        image_json(*matched[i].first, *matched[i].second, matched[i].first->uid == c.acc.uid));
  }
  return ok(c.call, {{"RegionId", region},
                     {"TotalCount", matched.size()},
                     {"PageNumber", page.page_number},
                     {"PageSize", page.size},
                     {"Images", {{"Image", list}}}});
}

Image& own_image(Ctx& c) {
  std::string region = required_param(c.call, "RegionId");
  std::string id = required_param(c.call, "ImageId");
  if (Region* r = region_of(c.acc, region)) {
    for (auto& img : r->images) {
      if (img.id == id) return img;
    }
  }
  fail(404, "InvalidImageId.NotFound", "The specified ImageId does not exist: " + id + ".");
}

ApiResponse describe_image_share_permission(Ctx& c) {
  Image& img = own_image(c);
  Paging page = page_number_paging(c.call);
  json accounts = json::array();
  std::size_t end = std::min(img.shares.size(), page.begin + page.size);
  for (std::size_t i = page.begin; i < end; ++i) {
    accounts.push_back({{"AliyunId", img.shares[i].account_uid},
                        {"SharedTime", iso_seconds(img.shares[i].shared)}});
  }
  json groups = json::array();
  if (img.is_public) groups.push_back({{"Group", "all"}});
  return ok(c.call, {{"ImageId", img.id},
                     {"RegionId", img.region},
                     {"PageNumber", page.page_number},
                     {"PageSize", page.size},
                     {"TotalCount", img.shares.size()},
                     {"Accounts", {{"Account", accounts}}},
                     {"ShareGroups", {{"ShareGroup", groups}}}});
}

// Only AddAccount.1..10 / RemoveAccount.1..10 count: ECS silently ignores the rest
// (docs/alibaba-api.md §5).
std::vector<std::string> first_ten(const ApiCall& call, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& [n, fields] : repeat_param(call, name)) {
    if (n > static_cast<int>(wire::kMaxImageShareAccountsPerCall)) break;
    auto it = fields.find("");
    if (it == fields.end() || it->second.empty()) continue;
    if (std::find(out.begin(), out.end(), it->second) == out.end()) out.push_back(it->second);
  }
  return out;
}

ApiResponse modify_image_share_permission(Ctx& c) {
  Image& img = own_image(c);
  auto add = first_ten(c.call, "AddAccount");
  auto remove = first_ten(c.call, "RemoveAccount");
  for (const auto& uid : add) {
    // The emulator's world is the seed: an account it does not know does not exist.
    if (!is_uid(uid) || c.state.account(uid) == nullptr) {
      fail(404, "InvalidAccount.NotFound", "The specified account does not exist: " + uid + ".");
    }
    // The misspelling "Forbbiden" is ECS's own.
    if (uid == c.acc.uid) {
      fail(404, "InvalidAccount.Forbbiden", "The image cannot be shared with its owner account.");
    }
  }
  for (const auto& uid : remove) {
    if (!is_uid(uid)) {
      fail(404, "InvalidAccount.NotFound", "The specified account does not exist: " + uid + ".");
    }
  }
  const KmsKey* key = resource_key(c.acc, ResourceRef{&c.acc, nullptr, &img});
  std::optional<bool> make_public;
  if (find_param(c.call, "IsPublic") != nullptr)
    make_public = bool_param(c.call, "IsPublic", false);
  if (!add.empty() && iequals(img.status, "Deprecated")) {
    fail(403, "OperationDenied.InvalidImageStatus",
         "The specified image cannot be shared when it is deprecated.");
  }
  if (key != nullptr && (!add.empty() || make_public.value_or(false))) {
    if (key->is_service_key()) {
      // The current code (2025 metadata); OperationDeined.EncryptedSnapshot is the older blanket
      // "encrypted images cannot be shared" answer.
      fail(403, "InvalidOperation.ServiceKeyEncryptedImageUnsupported",
           "The specified service key encrypted image is not supported for this operation. Please "
           "switch to a CMK (Customer Master Key) encrypted image and retry.");
    }
    if (make_public.value_or(false)) {
      fail(403, "OperationDeined.EncryptedSnapshot", "Encrypted images cannot be made public.");
    }
    if (key->state != "Enabled") {
      fail(403, "InvalidParameter.KMSKeyId.CMKNotEnabled",
           "The CMK (Customer Master Key) must be in an active state.");
    }
    if (c.state.emulation.refuse_encrypted_full_images && img.mappings.size() > 1) {
      fail(403, "OperationDeined.FullImage",
           "The encrypted image contains multiple snapshots, which do not support share.");
    }
    for (const auto& uid : add) {
      if (!share_role_trusts(c.state, c.acc, wire::kImageShareRole, uid)) {
        fail(403, "AssumeRoleError",
             "Requires a RAM role of AliyunECSShareEncryptImageDefaultRole before sharing "
             "encrypted image (its trust policy must admit " +
                 uid + "@ecs.aliyuncs.com).");
      }
    }
  }
  std::vector<std::string> after;
  for (const auto& s : img.shares) {
    if (std::find(remove.begin(), remove.end(), s.account_uid) == remove.end()) {
      after.push_back(s.account_uid);
    }
  }
  for (const auto& uid : add) {
    if (std::find(after.begin(), after.end(), uid) == after.end()) after.push_back(uid);
  }
  if (after.size() > wire::kMaxImageShareAccounts) {
    fail(403, "QuotaExceed.ShareImageUser",
         "The number of accounts an image is shared with exceeds the quota of 50.");
  }
  if (bool_param(c.call, "DryRun", false)) {
    fail(400, "DryRunOperation", "Request validation has been passed with DryRun flag set.");
  }
  std::vector<ImageShare> shares;
  for (const auto& uid : after) {
    auto it = std::find_if(img.shares.begin(), img.shares.end(),
                           [&](const ImageShare& s) { return s.account_uid == uid; });
    shares.push_back(
        it != img.shares.end()
            ? *it
            : ImageShare{uid, std::chrono::time_point_cast<std::chrono::seconds>(c.call.now)});
  }
  img.shares = std::move(shares);
  if (make_public) img.is_public = *make_public;
  return ok(c.call);
}

// DeleteImage: an image that does not exist is ignored (the parameter's documentation; the error
// table also lists InvalidImageId.NotFound). An image shared with accounts, or held by a live
// resource share, is refused with ImageUseShared even with Force=true: Force only skips the check
// for instances created from it (the emulator has no instances), and the ECS guide says to unshare
// before deleting.
ApiResponse delete_image(Ctx& c) {
  std::string region = required_param(c.call, "RegionId");
  std::string id = required_param(c.call, "ImageId");
  (void)bool_param(c.call, "Force", false);  // validated, nothing to force
  Region* r = region_of(c.acc, region);
  if (r == nullptr) return ok(c.call);
  auto it = std::find_if(r->images.begin(), r->images.end(),
                         [&](const Image& img) { return img.id == id; });
  if (it == r->images.end()) return ok(c.call);
  if (!it->shares.empty() ||
      in_live_resource_share(c.state, c.options, c.acc.uid, it->id, c.call.now)) {
    fail(403, "ImageUseShared",
         "The specified image has been shared to others. You can use the "
         "DescribeImageSharePermission API to query the users who have been shared.");
  }
  if (bool_param(c.call, "DryRun", false)) {
    fail(400, "DryRunOperation", "Request validation has been passed with DryRun flag set.");
  }
  r->images.erase(it);
  return ok(c.call);
}

// The tags of one image or snapshot of the caller in `region` (nullptr when it does not exist).
Tags* tags_of(Ctx& c, const std::string& region, const std::string& type, const std::string& id) {
  Region* r = region_of(c.acc, region);
  if (r == nullptr) return nullptr;
  if (type == "image") {
    for (auto& img : r->images) {
      if (img.id == id) return &img.tags;
    }
  } else {
    for (auto& s : r->snapshots) {
      if (s.id == id) return &s.tags;
    }
  }
  return nullptr;
}

// The tags of every id, or InvalidResourceId.NotFound for the first unknown one (nothing changes).
std::vector<Tags*> tags_of_all(Ctx& c, const std::string& region, const std::string& type,
                               const std::vector<std::string>& ids) {
  std::vector<Tags*> out;
  for (const auto& id : ids) {
    Tags* have = tags_of(c, region, type, id);
    if (have == nullptr) {
      fail(404, "InvalidResourceId.NotFound",
           "The specified ResourceIds are not found in our records: " + id + ".");
    }
    out.push_back(have);
  }
  return out;
}

std::string tag_resource_type(const ApiCall& call) {
  std::string type = required_param(call, "ResourceType");
  // The API knows many more types; the emulator holds images and snapshots only.
  if (type != "image" && type != "snapshot") {
    fail(404, "InvalidResourceType.NotFound",
         "The ResourceType provided does not exist in our records.");
  }
  return type;
}

std::vector<std::string> resource_ids(const ApiCall& call, bool required) {
  std::vector<std::string> ids;
  for (const auto& [n, fields] : repeat_param(call, "ResourceId")) {
    auto it = fields.find("");
    if (it == fields.end() || it->second.empty()) continue;
    if (std::find(ids.begin(), ids.end(), it->second) != ids.end()) {
      fail(400, "Duplicate.ResourceId", "The ResourceId contains duplicate values.");
    }
    ids.push_back(it->second);
  }
  if (ids.size() > 50) {
    fail(400, "NumberExceed.ResourceIds",
         "The ResourceIds parameter's number is exceed , Valid : 50");
  }
  if (required && ids.empty()) {
    fail(400, "MissingParameter.ResourceIds", "You must specify ResourceId.N.");
  }
  return ids;
}

// TagResources: ResourceId.N <= 50, Tag.N <= 20 (keys 1-128, not acs: or aliyun, no http(s)://;
// values <= 128), at most 20 tags on a resource afterwards; all or nothing.
ApiResponse tag_resources(Ctx& c) {
  std::string region = required_param(c.call, "RegionId");
  std::string type = tag_resource_type(c.call);
  auto ids = resource_ids(c.call, true);
  auto given = repeat_param(c.call, "Tag");
  if (given.size() > 20) {
    fail(400, "NumberExceed.Tags", "The Tags parameter's number is exceed , Valid : 20");
  }
  if (given.empty()) fail(400, "MissingParameter.Tags", "The parameter - Tags should not be null.");
  Tags tags;
  for (const auto& [n, fields] : given) {
    auto k = fields.find("Key");
    auto v = fields.find("Value");
    std::string key = k == fields.end() ? "" : k->second;
    std::string value = v == fields.end() ? "" : v->second;
    if (key.empty() || key.size() > 128 || key.rfind("acs:", 0) == 0 ||
        key.rfind("aliyun", 0) == 0 || key.find("http://") != std::string::npos ||
        key.find("https://") != std::string::npos) {
      fail(400, "InvalidTagKey.Malformed",
           "The specified Tag." + std::to_string(n) + ".Key is not valid.");
    }
    if (value.size() > 128 || value.find("http://") != std::string::npos ||
        value.find("https://") != std::string::npos) {
      fail(400, "InvalidTagValue.Malformed",
           "The specified Tag." + std::to_string(n) + ".Value is not valid.");
    }
    if (!tags.emplace(key, value).second) {
      fail(400, "Duplicate.TagKey", "The Tag.N.Key contain duplicate key.");
    }
  }
  std::vector<Tags*> targets = tags_of_all(c, region, type, ids);
  for (const Tags* have : targets) {
    Tags after = *have;
    for (const auto& [k, v] : tags) after[k] = v;
    if (after.size() > 20) {
      fail(400, "OperationDenied.QuotaExceed",
           "The quota of tags on resource is beyond permitted range.");
    }
  }
  for (Tags* have : targets) {
    for (const auto& [k, v] : tags) (*have)[k] = v;
  }
  return ok(c.call);
}

// UntagResources: TagKey.N (<= 20) or All=true; a key the resource does not carry is ignored.
ApiResponse untag_resources(Ctx& c) {
  std::string region = required_param(c.call, "RegionId");
  std::string type = tag_resource_type(c.call);
  auto ids = resource_ids(c.call, true);
  std::vector<std::string> keys;
  for (const auto& [n, fields] : repeat_param(c.call, "TagKey")) {
    auto it = fields.find("");
    if (it != fields.end() && !it->second.empty()) keys.push_back(it->second);
  }
  if (keys.size() > 20) {
    fail(400, "NumberExceed.Tags", "The Tags parameter's number is exceed , Valid : 20");
  }
  const bool all = bool_param(c.call, "All", false);
  for (Tags* have : tags_of_all(c, region, type, ids)) {
    if (all) have->clear();
    for (const auto& k : keys) have->erase(k);
  }
  return ok(c.call);
}

// ListTagResources: by ResourceId.N and/or Tag.N (ANDed); NextToken paging of 50;
// TagResources.TagResource[]{ResourceId, ResourceType, TagKey, TagValue}.
ApiResponse list_tag_resources(Ctx& c) {
  std::string region = required_param(c.call, "RegionId");
  std::string type = tag_resource_type(c.call);
  auto ids = resource_ids(c.call, false);
  auto filter = ecs_tag_filter(c.call);
  if (ids.empty() && filter.empty()) {
    fail(400, "MissingParameter.ResourceIdOrTag", "Either ResourceId or Tag must be specified.");
  }
  json all = json::array();
  auto add = [&](const std::string& id, const Tags& tags) {
    if (!ids.empty() && std::find(ids.begin(), ids.end(), id) == ids.end()) return;
    if (!tags_match(tags, filter)) return;
    for (const auto& [k, v] : tags) {
      all.push_back({{"ResourceId", id}, {"ResourceType", type}, {"TagKey", k}, {"TagValue", v}});
    }
  };
  if (Region* r = region_of(c.acc, region)) {
    if (type == "image") {
      for (const auto& img : r->images) add(img.id, img.tags);
    } else {
      for (const auto& s : r->snapshots) add(s.id, s.tags);
    }
  }
  std::size_t begin = 0;
  if (const std::string* t = find_param(c.call, "NextToken"); t && !t->empty()) {
    begin = std::min(parse_offset_token(*t, "NextToken"), all.size());
  }
  const std::size_t end = std::min(all.size(), begin + 50);
  json page = json::array();
  for (std::size_t i = begin; i < end; ++i) page.push_back(all[i]);
  return ok(c.call, {{"TagResources", {{"TagResource", page}}},
                     {"NextToken", end < all.size() ? offset_token(end) : ""}});
}

}  // namespace

bool share_role_trusts(const State& state, const Account& owner, std::string_view role_name,
                       std::string_view uid) {
  const Role* role = find_role(owner, role_name);
  if (role == nullptr) return false;
  std::string principal = std::string(uid) + std::string(wire::kEcsServiceSuffix);
  auto matcher = [&](std::string_view kind, std::string_view value) {
    return kind == "Service" && policy::wildcard_match(value, principal, true);
  };
  return policy::evaluate_trust(role->trust, "sts:AssumeRole", matcher, rd_context(state, uid)) ==
         policy::Decision::Allow;
}

// DescribeRegions: the regions of this emulated cloud, i.e. every region the seed gives any account
// (and cn-hangzhou, where the SDKs send their first call), sorted. Regions.Region[]{RegionId,
// LocalName, RegionEndpoint, Status}; not paged.
static ApiResponse describe_regions(const State& state, const ApiCall& call) {
  std::set<std::string> ids{"cn-hangzhou"};
  for (const auto& acc : state.accounts)
    for (const auto& [id, region] : acc.regions) ids.insert(id);
  nlohmann::json list = nlohmann::json::array();
  for (const auto& id : ids)
    list.push_back({{"RegionId", id},
                    {"LocalName", id},
                    {"RegionEndpoint", "ecs." + id + ".aliyuncs.com"},
                    {"Status", "available"}});
  return ApiResponse{200, {{"RequestId", call.request_id}, {"Regions", {{"Region", list}}}}};
}

ApiResponse ecs_call(State& state, const ModelOptions& options, const ApiCall& call) {
  if (call.action == "DescribeRegions") return describe_regions(state, call);
  Ctx c{state, options, call, *state.account(call.caller.account_uid)};
  if (call.action == "DescribeSnapshots") return describe_snapshots(c);
  if (call.action == "DescribeImages") return describe_images(c);
  if (call.action == "DescribeImageSharePermission") return describe_image_share_permission(c);
  if (call.action == "ModifyImageSharePermission") return modify_image_share_permission(c);
  if (call.action == "CopySnapshot") return ecs_disks_call(state, options, call);
  if (call.action == "DeleteImage") return delete_image(c);
  if (call.action == "TagResources") return tag_resources(c);
  if (call.action == "UntagResources") return untag_resources(c);
  if (call.action == "ListTagResources") return list_tag_resources(c);
  fail(404, "InvalidAction.NotFound",
       "Specified api is not found, please check your url and method.");
}

}  // namespace sharekeeper::emulator
