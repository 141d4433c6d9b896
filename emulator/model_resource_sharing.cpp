// Resource Sharing (docs/alibaba-api.md §7; ResourceSharing 2020-01-10 API metadata): resource
// shares of snapshots and images to accounts, the resource directory or its folders, tagged
// (Tag.N), updated and deleted. At most 5 resources and 5 targets per call, no duplicates.
// Associations are asynchronous: Associating becomes Associated `association_delay` after the call
// and Disassociating becomes Disassociated as long, computed from timestamps when asked (no
// threads); associating what is still Disassociating is AssociateConflict, disassociating what is
// still Associating DisassociateConflict. Targets outside the sharer's RD are external: they need
// AllowExternalTargets and get a Pending invitation, valid 7 days; the target stays Associating
// until the receiver accepts, and is Failed once it is rejected or expired. Responses are bare
// arrays.
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

Clock::time_point millis(Clock::time_point t) {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(t);
}

std::string region_of_call(const ApiCall& call) {
  std::string region = param_or(call, "RegionId", "");
  if (!region.empty()) return region;
  constexpr std::string_view kPrefix = "resourcesharing.";
  if (call.host.rfind(kPrefix, 0) == 0) {
    std::string rest = call.host.substr(kPrefix.size());
    std::size_t dot = rest.find('.');
    if (dot != std::string::npos && rest.substr(dot) == ".aliyuncs.com") return rest.substr(0, dot);
  }
  return "";
}

bool in_region(const ResourceShare& s, const std::string& region) {
  return region.empty() || s.region.empty() || s.region == region;
}

bool is_rd_member(const State& state, std::string_view uid) {
  return state.rd && state.rd->account_folder.count(std::string(uid)) != 0;
}

std::string status_of(const Ctx& c, const ResourceShare& s, const Association& a) {
  return association_status(c.state, s, a, c.options, c.call.now);
}

bool live(const std::string& status) {
  return status != "Disassociated" && status != "Failed" && status != "Disassociating";
}

// Why an external target is not Associated (its latest invitation), or "" when nothing is wrong.
std::string invitation_message(const Ctx& c, const ResourceShare& s, const Association& a) {
  if (!a.external || a.association_type != "Target" || a.disassociated_at) return "";
  const Invitation* inv = latest_invitation(c.state, s.id, a.entity_id);
  if (inv == nullptr) return "";
  const std::string st = inv->status_at(c.call.now);
  if (st == "Pending") return "The invitation has not been accepted by the target account.";
  if (st == "Rejected") return "The invitation was rejected by the target account.";
  if (st == "Expired") {
    return "The invitation expired before the target account accepted it (an invitation is "
           "valid for 7 days).";
  }
  return "";
}

json association_json(const Ctx& c, const ResourceShare& s, const Association& a) {
  std::string status = status_of(c, s, a);
  json failed = json::array();
  for (const auto& f : a.failures) {
    failed.push_back({{"EntityId", f.entity_id},
                      {"EntityType", f.entity_type},
                      {"FailureReason", f.reason},
                      {"FailureDescription", f.description},
                      {"OperationType", "Associate"}});
  }
  std::string message = a.failed ? a.failure_message : invitation_message(c, s, a);
  return {{"ResourceShareId", s.id},
          {"ResourceShareName", s.name},
          {"EntityId", a.entity_id},
          {"EntityType", a.entity_type},
          {"AssociationType", a.association_type},
          {"AssociationStatus", status},
          {"AssociationStatusMessage", message},
          {"TargetProperty", ""},
          {"External", a.external},
          {"AssociationFailedDetails", failed},
          {"CreateTime", iso_millis(a.created)},
          {"UpdateTime", iso_millis(a.updated)}};
}

json tags_array(const Tags& tags) {
  json list = json::array();
  for (const auto& [k, v] : tags) list.push_back({{"Key", k}, {"Value", v}});
  return list;
}

json share_json(const ResourceShare& s, const std::string& status) {
  return {{"ResourceShareId", s.id},
          {"ResourceShareName", s.name},
          {"ResourceShareOwner", s.owner},
          {"ResourceShareStatus", status},
          {"AllowExternalTargets", s.allow_external},
          {"CreateTime", iso_millis(s.created)},
          {"UpdateTime", iso_millis(s.updated)}};
}

// Tag.N.Key / Tag.N.Value of CreateResourceShare: at most 20, keys 1-128 characters not starting
// with acs: or aliyun, values at most 128, neither with http:// or https://.
Tags share_tags(const ApiCall& call) {
  Tags out;
  auto tags = repeat_param(call, "Tag");
  if (tags.size() > 20) fail(400, "InvalidParameter.Tag", "At most 20 tags may be given.");
  for (const auto& [n, fields] : tags) {
    auto k = fields.find("Key");
    auto v = fields.find("Value");
    std::string key = k == fields.end() ? "" : k->second;
    std::string value = v == fields.end() ? "" : v->second;
    const bool bad_key = key.empty() || key.size() > 128 || key.rfind("acs:", 0) == 0 ||
                         key.rfind("aliyun", 0) == 0 || key.find("http://") != std::string::npos ||
                         key.find("https://") != std::string::npos;
    const bool bad_value = value.size() > 128 || value.rfind("acs:", 0) == 0 ||
                           value.find("http://") != std::string::npos ||
                           value.find("https://") != std::string::npos;
    if (bad_key || bad_value) {
      fail(400, "InvalidParameter.Tag",
           "Tag." + std::to_string(n) +
               ": a key is 1-128 characters, not starting with acs: or aliyun; a value at most "
               "128; neither contains http:// or https://.");
    }
    if (!out.emplace(key, value).second) {
      fail(400, "InvalidParameter.Tag", "Tag." + std::to_string(n) + ".Key is given twice.");
    }
  }
  return out;
}

struct Entities {
  std::vector<std::pair<std::string, std::string>> resources;  // (type, id)
  std::vector<std::string> targets;
};

Entities parse_entities(const ApiCall& call) {
  Entities e;
  auto resources = repeat_param(call, "Resources");
  if (resources.size() > wire::kMaxResourceSharingItemsPerCall) {
    fail(400, "InvalidParameter.Resources.Length",
         "The number of resources in one request exceeds the limit of 5.");
  }
  for (const auto& [n, fields] : resources) {
    auto type = fields.find("ResourceType");
    auto id = fields.find("ResourceId");
    if (type == fields.end() || type->second.empty()) {
      fail(400, "MissingParameter.ResourceType",
           "Resources." + std::to_string(n) + ".ResourceType is mandatory.");
    }
    if (id == fields.end() || id->second.empty()) {
      fail(400, "MissingParameter.ResourceId",
           "Resources." + std::to_string(n) + ".ResourceId is mandatory.");
    }
    if (std::find(e.resources.begin(), e.resources.end(), std::pair{type->second, id->second}) !=
        e.resources.end()) {
      fail(400, "InvalidParameter.Resources.Duplicate", "The Resources contains duplicate values.");
    }
    e.resources.emplace_back(type->second, id->second);
  }
  auto targets = repeat_param(call, "Targets");
  if (targets.size() > wire::kMaxResourceSharingItemsPerCall) {
    fail(400, "InvalidParameter.Targets.Length",
         "The number of targets in one request exceeds the limit of 5.");
  }
  for (const auto& [n, fields] : targets) {
    auto it = fields.find("");
    if (it == fields.end() || it->second.empty()) continue;
    if (std::find(e.targets.begin(), e.targets.end(), it->second) != e.targets.end()) {
      fail(400, "InvalidParameter.Targets.Duplicate", "The Targets contains duplicate values.");
    }
    e.targets.push_back(it->second);
  }
  return e;
}

// Checks a resource and answers its failure (service-key snapshots cannot be shared).
std::optional<std::string> check_resource(const Ctx& c, const std::string& region,
                                          const std::string& type, const std::string& id) {
  if (type != "Snapshot" && type != "Image") {
    fail(400, "InvalidParameter.ResourceType",
         "The emulator shares ResourceType Snapshot and Image only, not " + type + ".");
  }
  ResourceRef ref = find_resource(c.state, id);
  bool right_type = type == "Snapshot" ? ref.snapshot != nullptr : ref.image != nullptr;
  std::string res_region = ref.snapshot ? ref.snapshot->region : ref.image ? ref.image->region : "";
  if (!right_type || ref.owner != &c.acc || (!region.empty() && res_region != region)) {
    fail(404, "EntityNotExists.Resource",
         "The " + type + " " + id + " does not exist in this account and region.");
  }
  const KmsKey* key = resource_key(c.acc, ref);
  if (key != nullptr && key->is_service_key()) {
    return "Resources encrypted with a service key cannot be shared; copy them with a CMK.";
  }
  return std::nullopt;
}

// Target entity type and whether it is external to the sharer's resource directory.
std::pair<std::string, bool> classify_target(const Ctx& c, const ResourceShare& share,
                                             const std::string& target) {
  bool owner_in_rd = is_rd_member(c.state, c.acc.uid);
  if (is_uid(target)) {
    if (target == c.acc.uid) {
      fail(409, "ShareWithYourself", "You cannot share resources with yourself.");
    }
    if (owner_in_rd && is_rd_member(c.state, target)) return {"Account", false};
    if (!share.allow_external) {
      fail(400, "InvalidTarget",
           "The target " + target +
               " is not in your resource directory; create the share with "
               "AllowExternalTargets=true to share with it.");
    }
    return {"Account", true};
  }
  if (target.rfind("rd-", 0) == 0) {
    if (!owner_in_rd || c.state.rd->id != target) {
      fail(400, "InvalidTarget", "The resource directory " + target + " is not yours.");
    }
    return {"ResourceDirectory", false};
  }
  if (owner_in_rd && c.state.rd->folder_parent.count(target) != 0) return {"Folder", false};
  fail(400, "InvalidTarget", "The target " + target + " is not an account, your RD or its folder.");
}

// A new Pending invitation: each (re)association of an external target sends one.
void invite(Ctx& c, const ResourceShare& s, const std::string& receiver) {
  for (auto& inv : c.state.invitations) {
    if (inv.share_id == s.id && inv.receiver == receiver && inv.status == "Pending") {
      inv.status = "Cancelled";
    }
  }
  Invitation inv;
  inv.id = c.state.next_id("in-", 12);
  inv.share_id = s.id;
  inv.sender = s.owner;
  inv.receiver = receiver;
  inv.created = millis(c.call.now);
  c.state.invitations.push_back(inv);
}

// The RD context of a target: sts:ServiceOwnerRDId / sts:ServiceOwnerRDPath as a member account of
// the directory (or of the folder) would present them.
policy::Context target_context(const State& state, const Association& t) {
  if (t.entity_type == "Account") return rd_context(state, t.entity_id);
  policy::Context ctx;
  if (!state.rd) return ctx;
  std::string path = state.rd->id;
  if (t.entity_type == "Folder") {
    for (const auto& f : folder_chain(state, t.entity_id)) path += "/" + f;
  } else {
    path += "/" + state.rd->root_folder_id;
  }
  ctx[std::string(wire::kRdIdConditionKey)] = state.rd->id;
  ctx[std::string(wire::kRdPathConditionKey)] = path;
  return ctx;
}

// With emulation.resource_sharing_checks_share_role: does the owner's share role for `resource`
// trust `target`'s ECS? (Accounts by UID; a directory or folder as any of its members would be.)
bool role_admits(const Ctx& c, const std::string& resource_id, const Association& target) {
  ResourceRef ref = find_resource(c.state, resource_id);
  if (ref.owner == nullptr) return true;
  const KmsKey* key = resource_key(*ref.owner, ref);
  if (key == nullptr || key->is_service_key()) return true;  // unencrypted, or Failed already
  std::string_view role_name =
      ref.snapshot != nullptr ? wire::kSnapshotShareRole : wire::kImageShareRole;
  if (target.entity_type == "Account") {
    return share_role_trusts(c.state, *ref.owner, role_name, target.entity_id);
  }
  const Role* role = find_role(*ref.owner, role_name);
  if (role == nullptr) return false;
  auto matcher = [](std::string_view kind, std::string_view value) {
    // No particular member: only a wildcard service principal can admit a directory or folder.
    return kind == "Service" &&
           policy::wildcard_match(value, "0000000000000000@ecs.aliyuncs.com", true);
  };
  return policy::evaluate_trust(role->trust, "sts:AssumeRole", matcher,
                                target_context(c.state, target)) == policy::Decision::Allow;
}

// Adds (or restarts) associations; returns the touched ones in request order.
json associate(Ctx& c, ResourceShare& share, const Entities& e) {
  std::string region = share.region;
  std::vector<std::pair<std::string, std::string>> entities;  // (association type, id)
  std::vector<std::tuple<std::string, bool, std::optional<std::string>>> details;
  // Validate everything before changing anything.
  for (const auto& [type, id] : e.resources) {
    details.emplace_back(type, false, check_resource(c, region, type, id));
    entities.emplace_back("Resource", id);
  }
  for (const auto& t : e.targets) {
    auto [type, external] = classify_target(c, share, t);
    details.emplace_back(type, external, std::nullopt);
    entities.emplace_back("Target", t);
  }
  auto find = [&](const std::string& assoc_type, const std::string& id) {
    return std::find_if(share.associations.begin(), share.associations.end(),
                        [&](const Association& a) {
                          return a.association_type == assoc_type && a.entity_id == id;
                        });
  };
  for (const auto& [assoc_type, id] : entities) {
    auto it = find(assoc_type, id);
    if (it != share.associations.end() && status_of(c, share, *it) == "Disassociating") {
      fail(409, "AssociateConflict",
           "You cannot perform the operation while disassociation operation is being performed: " +
               id + ".");
    }
  }
  auto now = millis(c.call.now);
  std::set<std::pair<std::string, std::string>> fresh;  // (re)started by this call
  for (std::size_t i = 0; i < entities.size(); ++i) {
    const auto& [assoc_type, id] = entities[i];
    const auto& [entity_type, external, failure] = details[i];
    auto it = find(assoc_type, id);
    if (it == share.associations.end()) {
      Association a;
      a.entity_id = id;
      a.association_type = assoc_type;
      a.created = now;
      share.associations.push_back(a);
      it = share.associations.end() - 1;
    } else if (live(status_of(c, share, *it))) {
      continue;  // already Associating or Associated: unchanged
    }
    it->entity_type = entity_type;
    it->external = external;
    it->disassociated_at.reset();
    it->updated = now;
    it->failed = failure.has_value();
    it->failure_message = failure.value_or("");
    it->failures.clear();
    if (external) invite(c, share, id);
    fresh.emplace(assoc_type, id);
  }
  auto is_fresh = [&](const Association& a) {
    return fresh.count({a.association_type, a.entity_id}) != 0;
  };
  // Failures are per pair: listed, on the failed association, against each target (or resource).
  for (auto& a : share.associations) {
    if (a.association_type != "Resource" || !a.failed || !is_fresh(a)) continue;
    for (const auto& t : share.associations) {
      if (t.association_type == "Target" && live(status_of(c, share, t))) {
        a.failures.push_back(
            {t.entity_id, t.entity_type, "UnsupportedOperation", a.failure_message});
      }
    }
  }
  if (c.state.emulation.resource_sharing_checks_share_role) {
    for (auto& t : share.associations) {
      if (t.association_type != "Target" || t.failed || !live(status_of(c, share, t))) continue;
      for (const auto& r : share.associations) {
        if (r.association_type != "Resource" || !live(status_of(c, share, r))) continue;
        if (!is_fresh(t) && !is_fresh(r)) continue;  // checked when the pair was made
        if (role_admits(c, r.entity_id, t)) continue;
        std::string role(r.entity_type == "Snapshot" ? wire::kSnapshotShareRole
                                                     : wire::kImageShareRole);
        t.failed = true;
        t.updated = now;
        t.failure_message = "The RAM role " + role + " does not trust the ECS service of " +
                            t.entity_id + ", so the encrypted " + r.entity_id +
                            " cannot be shared with it.";
        t.failures.push_back({r.entity_id, r.entity_type, "Unavailable", t.failure_message});
      }
    }
  }
  json out = json::array();
  for (const auto& [assoc_type, id] : entities) {
    out.push_back(association_json(c, share, *find(assoc_type, id)));
  }
  share.updated = now;
  return out;
}

ResourceShare& own_share(Ctx& c, const std::string& id) {
  for (auto& s : c.state.shares) {
    if (s.id == id && s.owner == c.acc.uid) return s;
  }
  fail(404, "EntityNotExists.ResourceShare", "The resource share does not exist: " + id + ".");
}

struct Page {
  std::size_t begin;
  std::size_t end;
};

Page token_page(const ApiCall& call, std::size_t total) {
  long max = int_param(call, "MaxResults", 20, 1, 100);
  std::size_t begin = 0;
  if (const std::string* t = find_param(call, "NextToken"); t && !t->empty()) {
    begin = std::min(parse_offset_token(*t, "NextToken"), total);
  }
  return {begin, std::min(total, begin + static_cast<std::size_t>(max))};
}

json paged(const ApiCall& call, const char* field, const json& all) {
  Page p = token_page(call, all.size());
  json list = json::array();
  for (std::size_t i = p.begin; i < p.end; ++i) list.push_back(all[i]);
  json body = {{field, list}};
  if (p.end < all.size()) body["NextToken"] = offset_token(p.end);
  return body;
}

std::vector<std::string> id_list(const ApiCall& call, std::string_view name) {
  std::vector<std::string> out;
  auto items = repeat_param(call, name);
  if (items.size() > wire::kMaxResourceSharingItemsPerCall) {
    fail(400, "InvalidParameter." + std::string(name) + ".Length",
         "At most 5 " + std::string(name) + " may be given.");
  }
  for (const auto& [n, f] : items) {
    auto it = f.find("");
    if (it != f.end()) out.push_back(it->second);
  }
  return out;
}

bool listed(const std::vector<std::string>& filter, const std::string& id) {
  return filter.empty() || std::find(filter.begin(), filter.end(), id) != filter.end();
}

std::string resource_owner_param(const ApiCall& call) {
  std::string owner = required_param(call, "ResourceOwner");
  if (owner != "Self" && owner != "OtherAccounts") {
    fail(400, "InvalidParameter.ResourceOwner", "ResourceOwner must be Self or OtherAccounts.");
  }
  return owner;
}

// Shares of other accounts whose live target associations reach the caller.
std::vector<std::pair<const ResourceShare*, const Association*>> incoming(const Ctx& c) {
  std::vector<std::pair<const ResourceShare*, const Association*>> out;
  for (const auto& s : c.state.shares) {
    if (s.owner == c.acc.uid) continue;
    for (const auto& a : s.associations) {
      if (a.association_type != "Target" || a.disassociated_at) continue;
      if (target_reaches(c.state, a, c.acc.uid)) out.emplace_back(&s, &a);
    }
  }
  return out;
}

// --- actions -----------------------------------------------------------------------------------

void check_share_name(const std::string& name) {
  bool name_ok = !name.empty() && name.size() <= std::size_t{50} * 3;
  std::size_t chars = 0;
  for (const char byte : name) {
    const auto ch = static_cast<unsigned char>(byte);  // isalnum needs a value of unsigned char
    if ((ch & 0xC0) != 0x80) ++chars;                  // count UTF-8 characters, not bytes
    if (ch < 0x80 && !(std::isalnum(ch) || ch == '.' || ch == '_' || ch == '-')) name_ok = false;
  }
  if (!name_ok || chars > 50) {
    fail(400, "InvalidParameter.ResourceShareName",
         "ResourceShareName is 1-50 letters, digits, CJK characters, '.', '_' or '-'.");
  }
}

// Writes need an Active share (ResourceShareStatusMismatchAction while Deleting or Deleted).
void require_active(const Ctx& c, const ResourceShare& s) {
  if (share_status(s, c.options, c.call.now) != "Active") {
    fail(409, "ResourceShareStatusMismatchAction",
         "The status of the resource share does not allow the specified operation.");
  }
}

ApiResponse create_resource_share(Ctx& c) {
  std::string name = required_param(c.call, "ResourceShareName");
  check_share_name(name);
  // Names are not unique: the API's EntityAlreadyExists.ResourceShare is about the share ID, and a
  // client that re-creates after an unknown outcome must find the duplicate, not be saved from it.
  Entities e = parse_entities(c.call);
  ResourceShare share;
  share.id = c.state.next_id("rs-", 12);
  share.name = name;
  share.owner = c.acc.uid;
  share.region = region_of_call(c.call);
  share.allow_external = bool_param(c.call, "AllowExternalTargets", false);
  share.tags = share_tags(c.call);
  share.created = share.updated = millis(c.call.now);
  // Validate the associations on a copy so a refused call creates nothing.
  ResourceShare draft = share;
  associate(c, draft, e);
  c.state.shares.push_back(std::move(draft));
  return ok(c.call, {{"ResourceShare", share_json(c.state.shares.back(), "Active")}});
}

ApiResponse update_resource_share(Ctx& c) {
  ResourceShare& share = own_share(c, required_param(c.call, "ResourceShareId"));
  const std::string* name = find_param(c.call, "ResourceShareName");
  if (name == nullptr || name->empty()) {
    fail(400, "MissingParameter.ResourceShareName", "You must specify ResourceShareName.");
  }
  check_share_name(*name);
  require_active(c, share);
  share.name = *name;
  if (find_param(c.call, "AllowExternalTargets") != nullptr) {
    // Associations already made stay as they are (what the real service does to external targets
    // when this is switched off is not documented).
    share.allow_external = bool_param(c.call, "AllowExternalTargets", share.allow_external);
  }
  share.updated = millis(c.call.now);
  return ok(c.call, {{"ResourceShare", share_json(share, "Active")}});
}

ApiResponse delete_resource_share(Ctx& c) {
  ResourceShare& share = own_share(c, required_param(c.call, "ResourceShareId"));
  // Deleting what is already Deleting or Deleted changes nothing and succeeds (a retry after an
  // unknown outcome lands here).
  if (!share.deleted_at) {
    auto now = millis(c.call.now);
    share.deleted_at = now;
    share.updated = now;
    for (auto& a : share.associations) {
      if (a.disassociated_at || a.failed) continue;
      a.disassociated_at = now;
      a.updated = now;
    }
    for (auto& inv : c.state.invitations) {
      if (inv.share_id == share.id && inv.status_at(c.call.now) == "Pending") {
        inv.status = "Cancelled";
      }
    }
  }
  return ok(c.call);
}

ApiResponse associate_resource_share(Ctx& c) {
  ResourceShare& share = own_share(c, required_param(c.call, "ResourceShareId"));
  Entities e = parse_entities(c.call);
  if (e.resources.empty() && e.targets.empty()) {
    fail(400, "ResourceAndTargetBothEmpty", "Specify resources, targets or both.");
  }
  require_active(c, share);
  ResourceShare draft = share;
  std::size_t invitations = c.state.invitations.size();
  try {
    json out = associate(c, draft, e);
    share = std::move(draft);
    return ok(c.call, {{"ResourceShareAssociations", out}});
  } catch (const ApiFailure&) {
    c.state.invitations.resize(invitations);
    throw;
  }
}

ApiResponse disassociate_resource_share(Ctx& c) {
  std::string id = required_param(c.call, "ResourceShareId");
  std::string owner = param_or(c.call, "ResourceOwner", "Self");
  Entities e = parse_entities(c.call);
  if (e.resources.empty() && e.targets.empty()) {
    fail(400, "ResourceAndTargetBothEmpty", "Specify resources, targets or both.");
  }
  ResourceShare* share = nullptr;
  if (owner == "OtherAccounts") {
    // A consumer leaves a share: only its own account target may be removed.
    for (auto& s : c.state.shares) {
      if (s.id == id && s.owner != c.acc.uid) share = &s;
    }
    if (!e.resources.empty() || std::any_of(e.targets.begin(), e.targets.end(),
                                            [&](const auto& t) { return t != c.acc.uid; })) {
      fail(400, "DisassociateInvalid", "A consumer can only remove its own account from a share.");
    }
  } else {
    share = &own_share(c, id);
  }
  if (share == nullptr) {
    fail(404, "EntityNotExists.ResourceShare", "The resource share does not exist: " + id + ".");
  }
  require_active(c, *share);
  std::vector<Association*> touched;
  auto find = [&](const std::string& type, const std::string& entity) {
    for (auto& a : share->associations) {
      if (a.association_type != type || a.entity_id != entity) continue;
      const std::string st = status_of(c, *share, a);
      if (st == "Associated") return &a;
      if (st == "Associating") {
        // Still being associated: refused, except an invitation nobody answered yet, which the
        // owner may withdraw.
        const Invitation* inv = latest_invitation(c.state, share->id, entity);
        if (a.external && inv != nullptr && inv->status_at(c.call.now) == "Pending") return &a;
        fail(409, "DisassociateConflict",
             "You cannot perform the operation while association is already in progress: " +
                 entity + ".");
      }
      break;
    }
    fail(400, "DisassociateInvalid",
         "You can not disassociate unassociated resource or target: " + entity + ".");
  };
  for (const auto& [type, rid] : e.resources) touched.push_back(find("Resource", rid));
  for (const auto& t : e.targets) touched.push_back(find("Target", t));
  json out = json::array();
  for (Association* a : touched) {
    a->disassociated_at = millis(c.call.now);
    a->updated = millis(c.call.now);
    for (auto& inv : c.state.invitations) {
      if (inv.share_id == share->id && inv.receiver == a->entity_id &&
          inv.status_at(c.call.now) == "Pending") {
        inv.status = "Cancelled";
      }
    }
    out.push_back(association_json(c, *share, *a));
  }
  return ok(c.call, {{"ResourceShareAssociations", out}});
}

ApiResponse list_resource_share_associations(Ctx& c) {
  std::string type = required_param(c.call, "AssociationType");
  if (type != "Resource" && type != "Target") {
    fail(400, "InvalidParameter.AssociationType", "AssociationType must be Resource or Target.");
  }
  auto share_ids = id_list(c.call, "ResourceShareIds");
  std::string resource_id = param_or(c.call, "ResourceId", "");
  std::string target = param_or(c.call, "Target", "");
  if ((!resource_id.empty() && type != "Resource") || (!target.empty() && type != "Target")) {
    fail(400, "ConflictedAssociationType",
         "The specified ResourceId or Target conflicts with AssociationType.");
  }
  std::string status = param_or(c.call, "AssociationStatus", "");
  static const std::set<std::string> kStatuses = {"Associating", "Associated", "Failed",
                                                  "Disassociating", "Disassociated"};
  if (!status.empty() && kStatuses.count(status) == 0) {
    fail(400, "InvalidParameter.AssociationStatus", "The AssociationStatus is invalid.");
  }
  std::string region = region_of_call(c.call);
  json all = json::array();
  for (const auto& s : c.state.shares) {
    if (s.owner != c.acc.uid || !listed(share_ids, s.id) || !in_region(s, region)) continue;
    for (const auto& a : s.associations) {
      if (a.association_type != type) continue;
      if (!resource_id.empty() && a.entity_id != resource_id) continue;
      if (!target.empty() && a.entity_id != target) continue;
      if (!status.empty() && status_of(c, s, a) != status) continue;
      all.push_back(association_json(c, s, a));
    }
  }
  return ok(c.call, paged(c.call, "ResourceShareAssociations", all));
}

ApiResponse list_shared_resources(Ctx& c) {
  std::string owner = resource_owner_param(c.call);
  std::string type = param_or(c.call, "ResourceType", "");
  std::string target = param_or(c.call, "Target", "");
  auto share_ids = id_list(c.call, "ResourceShareIds");
  auto resource_ids = id_list(c.call, "ResourceIds");
  std::string region = region_of_call(c.call);
  json all = json::array();
  auto add = [&](const ResourceShare& s, const Association& a) {
    all.push_back({{"ResourceShareId", s.id},
                   {"ResourceId", a.entity_id},
                   {"ResourceType", a.entity_type},
                   {"CreateTime", iso_millis(a.created)},
                   {"UpdateTime", iso_millis(a.updated)},
                   {"ResourceStatus", "Available"},
                   {"ResourceStatusMessage", ""}});
  };
  auto resource_ok = [&](const ResourceShare& s, const Association& a) {
    return a.association_type == "Resource" && (type.empty() || a.entity_type == type) &&
           listed(resource_ids, a.entity_id) && listed(share_ids, s.id) && in_region(s, region);
  };
  if (owner == "Self") {
    for (const auto& s : c.state.shares) {
      if (s.owner != c.acc.uid) continue;
      if (!target.empty() &&
          std::none_of(s.associations.begin(), s.associations.end(), [&](const Association& t) {
            return t.association_type == "Target" && t.entity_id == target &&
                   live(status_of(c, s, t));
          })) {
        continue;
      }
      for (const auto& a : s.associations) {
        std::string st = status_of(c, s, a);
        if (resource_ok(s, a) && (st == "Associated" || st == "Associating")) add(s, a);
      }
    }
  } else {
    std::vector<std::string> seen;
    for (const auto& [s, t] : incoming(c)) {
      if (status_of(c, *s, *t) != "Associated") continue;
      if (std::find(seen.begin(), seen.end(), s->id) != seen.end()) continue;
      seen.push_back(s->id);
      for (const auto& a : s->associations) {
        if (resource_ok(*s, a) && status_of(c, *s, a) == "Associated") add(*s, a);
      }
    }
  }
  return ok(c.call, paged(c.call, "SharedResources", all));
}

ApiResponse list_shared_targets(Ctx& c) {
  std::string owner = resource_owner_param(c.call);
  std::string type = param_or(c.call, "ResourceType", "");
  std::string resource_id = param_or(c.call, "ResourceId", "");
  auto share_ids = id_list(c.call, "ResourceShareIds");
  auto targets = id_list(c.call, "Targets");
  std::string region = region_of_call(c.call);
  json all = json::array();
  auto has_resource = [&](const ResourceShare& s) {
    if (type.empty() && resource_id.empty()) return true;
    return std::any_of(s.associations.begin(), s.associations.end(), [&](const Association& a) {
      return a.association_type == "Resource" && (type.empty() || a.entity_type == type) &&
             (resource_id.empty() || a.entity_id == resource_id);
    });
  };
  auto add = [&](const ResourceShare& s, const Association& a) {
    if (!listed(share_ids, s.id) || !listed(targets, a.entity_id) || !has_resource(s) ||
        !in_region(s, region)) {
      return;
    }
    all.push_back({{"TargetId", a.entity_id},
                   {"ResourceShareId", s.id},
                   {"External", a.external},
                   {"TargetProperty", ""},
                   {"CreateTime", iso_millis(a.created)},
                   {"UpdateTime", iso_millis(a.updated)}});
  };
  if (owner == "Self") {
    for (const auto& s : c.state.shares) {
      if (s.owner != c.acc.uid) continue;
      for (const auto& a : s.associations) {
        std::string st = status_of(c, s, a);
        if (a.association_type == "Target" && (st == "Associated" || st == "Associating"))
          add(s, a);
      }
    }
  } else {
    for (const auto& [s, t] : incoming(c)) {
      if (status_of(c, *s, *t) == "Associated") add(*s, *t);
    }
  }
  return ok(c.call, paged(c.call, "SharedTargets", all));
}

ApiResponse list_resource_shares(Ctx& c) {
  std::string owner = resource_owner_param(c.call);
  auto share_ids = id_list(c.call, "ResourceShareIds");
  std::string name = param_or(c.call, "ResourceShareName", "");
  std::string status = param_or(c.call, "ResourceShareStatus", "");
  static const std::set<std::string> kStatuses = {"Active", "Pending", "Deleting", "Deleted"};
  if (!status.empty() && kStatuses.count(status) == 0) {
    fail(400, "InvalidParameter.ResourceShareStatus", "The ResourceShareStatus is invalid.");
  }
  auto tag_filter = ecs_tag_filter(c.call);  // the same Tag.N.Key / Tag.N.Value style
  std::string region = region_of_call(c.call);
  json all = json::array();
  auto add = [&](const ResourceShare& s, const std::string& st) {
    if (!listed(share_ids, s.id) || (!name.empty() && s.name != name) ||
        (!status.empty() && st != status) || !in_region(s, region) ||
        !tags_match(s.tags, tag_filter)) {
      return;
    }
    json j = share_json(s, st);
    j["Tags"] = tags_array(s.tags);
    all.push_back(std::move(j));
  };
  if (owner == "Self") {
    for (const auto& s : c.state.shares) {
      if (s.owner == c.acc.uid) add(s, share_status(s, c.options, c.call.now));
    }
  } else {
    std::vector<std::string> seen;
    for (const auto& [s, t] : incoming(c)) {
      if (std::find(seen.begin(), seen.end(), s->id) != seen.end()) continue;
      if (s->deleted_at || t->failed) continue;
      seen.push_back(s->id);
      // The consumer sees an external share as Pending until it accepts the invitation.
      bool pending = t->external && !invitation_accepted(c.state, s->id, c.acc.uid);
      add(*s, pending ? "Pending" : "Active");
    }
  }
  return ok(c.call, paged(c.call, "ResourceShares", all));
}

json invitation_json(const State& state, const Invitation& inv, Clock::time_point now) {
  std::string name;
  for (const auto& s : state.shares) {
    if (s.id == inv.share_id) name = s.name;
  }
  return {{"ResourceShareInvitationId", inv.id}, {"ResourceShareId", inv.share_id},
          {"ResourceShareName", name},           {"SenderAccountId", inv.sender},
          {"ReceiverAccountId", inv.receiver},   {"CreateTime", iso_millis(inv.created)},
          {"Status", inv.status_at(now)},        {"InvitationFailedDetails", json::array()}};
}

ApiResponse list_invitations(Ctx& c) {
  auto inv_ids = id_list(c.call, "ResourceShareInvitationIds");
  auto share_ids = id_list(c.call, "ResourceShareIds");
  json all = json::array();
  for (const auto& inv : c.state.invitations) {
    if (inv.receiver != c.acc.uid || !listed(inv_ids, inv.id) || !listed(share_ids, inv.share_id)) {
      continue;
    }
    all.push_back(invitation_json(c.state, inv, c.call.now));
  }
  return ok(c.call, paged(c.call, "ResourceShareInvitations", all));
}

// The caller's invitation, in a state that can still be answered (409 otherwise, as in the
// metadata of Accept/RejectResourceShareInvitation).
Invitation& answerable_invitation(Ctx& c) {
  std::string id = required_param(c.call, "ResourceShareInvitationId");
  for (auto& inv : c.state.invitations) {
    if (inv.id != id || inv.receiver != c.acc.uid) continue;
    const std::string st = inv.status_at(c.call.now);
    if (st == "Accepted") {
      fail(409, "InvitationStatus.AlreadyAccepted",
           "The resource share invitation status is alredy accepted.");
    }
    if (st == "Rejected") {
      fail(409, "InvitationStatus.AlreadyRejected",
           "The resource share invitation status is rejected.");
    }
    if (st == "Expired") {
      fail(409, "InvitationStatus.Expired", "The resource share invitation status is expired.");
    }
    if (st == "Pending") return inv;
    break;  // Cancelled: withdrawn by the owner, as if it had never been sent
  }
  fail(409, "EntityNotExists.ResourceShareInvitation",
       "The resource share invitation does not exist in the current account: " + id + ".");
}

ApiResponse accept_invitation(Ctx& c) {
  Invitation& inv = answerable_invitation(c);
  inv.status = "Accepted";
  inv.accepted_at = millis(c.call.now);
  return ok(c.call, {{"ResourceShareInvitation", invitation_json(c.state, inv, c.call.now)}});
}

ApiResponse reject_invitation(Ctx& c) {
  Invitation& inv = answerable_invitation(c);
  inv.status = "Rejected";
  return ok(c.call, {{"ResourceShareInvitation", invitation_json(c.state, inv, c.call.now)}});
}

}  // namespace

const Invitation* latest_invitation(const State& state, std::string_view share_id,
                                    std::string_view uid) {
  const Invitation* out = nullptr;
  for (const auto& inv : state.invitations) {
    if (inv.share_id == share_id && inv.receiver == uid) out = &inv;  // newest last
  }
  return out;
}

std::optional<Clock::time_point> invitation_accepted_at(const State& state,
                                                        std::string_view share_id,
                                                        std::string_view uid) {
  const Invitation* inv = latest_invitation(state, share_id, uid);
  if (inv == nullptr || inv->status != "Accepted") return std::nullopt;
  return inv->accepted_at;
}

bool invitation_accepted(const State& state, std::string_view share_id, std::string_view uid) {
  return invitation_accepted_at(state, share_id, uid).has_value();
}

std::string share_status(const ResourceShare& share, const ModelOptions& options,
                         Clock::time_point now) {
  if (!share.deleted_at) return "Active";
  return now >= *share.deleted_at + options.association_delay ? "Deleted" : "Deleting";
}

std::string association_status(const State& state, const ResourceShare& share, const Association& a,
                               const ModelOptions& options, Clock::time_point now) {
  if (a.failed) return "Failed";
  if (a.disassociated_at) {
    return now >= *a.disassociated_at + options.association_delay ? "Disassociated"
                                                                  : "Disassociating";
  }
  Clock::time_point ready = a.updated + options.association_delay;
  if (a.external && a.association_type == "Target") {
    const Invitation* inv = latest_invitation(state, share.id, a.entity_id);
    const std::string st = inv == nullptr ? "Pending" : inv->status_at(now);
    // A rejected or expired invitation ends the association; a new association invites again.
    if (st == "Rejected" || st == "Expired") return "Failed";
    if (st != "Accepted" || !inv->accepted_at) return "Associating";
    ready = std::max(ready, *inv->accepted_at);
  }
  return now >= ready ? "Associated" : "Associating";
}

bool in_live_resource_share(const State& state, const ModelOptions& options,
                            std::string_view owner_uid, std::string_view resource_id,
                            Clock::time_point now) {
  for (const auto& share : state.shares) {
    if (share.owner != owner_uid || share.deleted_at) continue;
    for (const auto& a : share.associations) {
      if (a.association_type != "Resource" || a.entity_id != resource_id) continue;
      const std::string st = association_status(state, share, a, options, now);
      if (st == "Associating" || st == "Associated") return true;
    }
  }
  return false;
}

bool target_reaches(const State& state, const Association& target, std::string_view uid) {
  if (target.association_type != "Target") return false;
  if (target.entity_type == "Account") return target.entity_id == uid;
  if (!state.rd) return false;
  auto it = state.rd->account_folder.find(std::string(uid));
  if (it == state.rd->account_folder.end()) return false;
  if (target.entity_type == "ResourceDirectory") return target.entity_id == state.rd->id;
  auto chain = folder_chain(state, it->second);
  return std::find(chain.begin(), chain.end(), target.entity_id) != chain.end();
}

bool shared_through_resource_sharing(const State& state, const ModelOptions& options,
                                     std::string_view owner_uid, std::string_view resource_id,
                                     std::string_view uid, Clock::time_point now) {
  for (const auto& share : state.shares) {
    if (share.owner != owner_uid) continue;
    bool resource = std::any_of(
        share.associations.begin(), share.associations.end(), [&](const Association& a) {
          return a.association_type == "Resource" && a.entity_id == resource_id &&
                 association_status(state, share, a, options, now) == "Associated";
        });
    if (!resource) continue;
    for (const auto& t : share.associations) {
      if (target_reaches(state, t, uid) &&
          association_status(state, share, t, options, now) == "Associated") {
        return true;
      }
    }
  }
  return false;
}

int accept_pending_invitations(State& state, const std::optional<std::string>& uid,
                               Clock::time_point now) {
  int n = 0;
  for (auto& inv : state.invitations) {
    // Expired invitations cannot be accepted any more (InvitationStatus.Expired).
    if (inv.status_at(now) != "Pending" || (uid && inv.receiver != *uid)) continue;
    inv.status = "Accepted";
    inv.accepted_at = std::chrono::time_point_cast<std::chrono::milliseconds>(now);
    ++n;
  }
  return n;
}

ApiResponse resource_sharing_call(State& state, const ModelOptions& options, const ApiCall& call) {
  Ctx c{state, options, call, *state.account(call.caller.account_uid)};
  const std::string& a = call.action;
  if (a == "CreateResourceShare") return create_resource_share(c);
  if (a == "UpdateResourceShare") return update_resource_share(c);
  if (a == "DeleteResourceShare") return delete_resource_share(c);
  if (a == "AssociateResourceShare") return associate_resource_share(c);
  if (a == "DisassociateResourceShare") return disassociate_resource_share(c);
  if (a == "ListResourceShareAssociations") return list_resource_share_associations(c);
  if (a == "ListSharedResources") return list_shared_resources(c);
  if (a == "ListSharedTargets") return list_shared_targets(c);
  if (a == "ListResourceShares") return list_resource_shares(c);
  if (a == "ListResourceShareInvitations") return list_invitations(c);
  if (a == "AcceptResourceShareInvitation") return accept_invitation(c);
  if (a == "RejectResourceShareInvitation") return reject_invitation(c);
  fail(404, "InvalidAction.NotFound",
       "Specified api is not found, please check your url and method.");
}

}  // namespace sharekeeper::emulator
