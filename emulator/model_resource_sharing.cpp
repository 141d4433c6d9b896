// Resource Sharing (cloud-api.md §7): resource shares of snapshots and images to accounts, the
// resource directory or its folders. At most 5 resources and 5 targets per call. Associations are
// asynchronous: Associating becomes Associated `association_delay` after the call, computed from
// timestamps when asked (no threads). Targets outside the sharer's RD are external: they need
// AllowExternalTargets and stay Associating, with a Pending invitation, until the receiver accepts.
// Responses are bare arrays.
#include <algorithm>

#include "emulator/model_state.hpp"
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

json association_json(const Ctx& c, const ResourceShare& s, const Association& a) {
  std::string status = status_of(c, s, a);
  json failed = json::array();
  if (a.failed) {
    failed.push_back({{"EntityId", a.entity_id},
                      {"EntityType", a.entity_type},
                      {"FailureReason", a.failure_reason},
                      {"FailureDescription", a.failure_description},
                      {"OperationType", "Associate"}});
  }
  std::string message;
  if (a.failed) {
    message = a.failure_description;
  } else if (a.external && status == "Associating" &&
             !invitation_accepted(c.state, s.id, a.entity_id)) {
    message = "The invitation has not been accepted by the target account.";
  }
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

json share_json(const ResourceShare& s, const std::string& status) {
  return {{"ResourceShareId", s.id},
          {"ResourceShareName", s.name},
          {"ResourceShareOwner", s.owner},
          {"ResourceShareStatus", status},
          {"AllowExternalTargets", s.allow_external},
          {"CreateTime", iso_millis(s.created)},
          {"UpdateTime", iso_millis(s.updated)}};
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
    e.resources.emplace_back(type->second, id->second);
  }
  auto targets = repeat_param(call, "Targets");
  if (targets.size() > wire::kMaxResourceSharingItemsPerCall) {
    fail(400, "InvalidParameter.Targets.Length",
         "The number of targets in one request exceeds the limit of 5.");
  }
  for (const auto& [n, fields] : targets) {
    auto it = fields.find("");
    if (it != fields.end() && !it->second.empty()) e.targets.push_back(it->second);
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

void ensure_invitation(Ctx& c, const ResourceShare& s, const std::string& receiver) {
  for (const auto& inv : c.state.invitations) {
    if (inv.share_id == s.id && inv.receiver == receiver) return;
  }
  Invitation inv;
  inv.id = c.state.next_id("in-", 12);
  inv.share_id = s.id;
  inv.sender = s.owner;
  inv.receiver = receiver;
  inv.created = millis(c.call.now);
  c.state.invitations.push_back(inv);
}

// Adds (or re-adds) associations; returns the touched ones in request order.
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
  json out = json::array();
  auto now = millis(c.call.now);
  for (std::size_t i = 0; i < entities.size(); ++i) {
    const auto& [assoc_type, id] = entities[i];
    const auto& [entity_type, external, failure] = details[i];
    auto it = std::find_if(share.associations.begin(), share.associations.end(),
                           [&](const Association& a) {
                             return a.association_type == assoc_type && a.entity_id == id;
                           });
    if (it == share.associations.end()) {
      Association a;
      a.entity_id = id;
      a.entity_type = entity_type;
      a.association_type = assoc_type;
      a.external = external;
      a.created = a.updated = now;
      share.associations.push_back(a);
      it = share.associations.end() - 1;
    } else if (!live(status_of(c, share, *it))) {
      it->disassociated_at.reset();
      it->updated = now;
    }
    it->failed = failure.has_value();
    it->failure_reason = failure ? "UnsupportedOperation" : "";
    it->failure_description = failure.value_or("");
    if (external) ensure_invitation(c, share, id);
    out.push_back(association_json(c, share, *it));
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

ApiResponse create_resource_share(Ctx& c) {
  std::string name = required_param(c.call, "ResourceShareName");
  bool name_ok = !name.empty() && name.size() <= 50 * 3;
  std::size_t chars = 0;
  for (unsigned char ch : name) {
    if ((ch & 0xC0) != 0x80) ++chars;  // count UTF-8 characters, not bytes
    if (ch < 0x80 && !(std::isalnum(ch) || ch == '.' || ch == '_' || ch == '-')) name_ok = false;
  }
  if (!name_ok || chars > 50) {
    fail(400, "InvalidParameter.ResourceShareName",
         "ResourceShareName is 1-50 letters, digits, CJK characters, '.', '_' or '-'.");
  }
  for (const auto& s : c.state.shares) {
    if (s.owner == c.acc.uid && s.name == name) {
      fail(409, "EntityAlreadyExists.ResourceShare", "The resource share already exists: " + name);
    }
  }
  Entities e = parse_entities(c.call);
  ResourceShare share;
  share.id = c.state.next_id("rs-", 12);
  share.name = name;
  share.owner = c.acc.uid;
  share.region = region_of_call(c.call);
  share.allow_external = bool_param(c.call, "AllowExternalTargets", false);
  share.created = share.updated = millis(c.call.now);
  // Validate the associations on a copy so a refused call creates nothing.
  ResourceShare draft = share;
  associate(c, draft, e);
  c.state.shares.push_back(std::move(draft));
  return ok(c.call, {{"ResourceShare", share_json(c.state.shares.back(), "Active")}});
}

ApiResponse associate_resource_share(Ctx& c) {
  ResourceShare& share = own_share(c, required_param(c.call, "ResourceShareId"));
  Entities e = parse_entities(c.call);
  if (e.resources.empty() && e.targets.empty()) {
    fail(400, "ResourceAndTargetBothEmpty", "Specify resources, targets or both.");
  }
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
  std::vector<Association*> touched;
  auto find = [&](const std::string& type, const std::string& entity) {
    for (auto& a : share->associations) {
      if (a.association_type == type && a.entity_id == entity && !a.disassociated_at) return &a;
    }
    fail(400, "DisassociateInvalid",
         "The entity " + entity + " is not associated with " + id + ".");
  };
  for (const auto& [type, rid] : e.resources) touched.push_back(find("Resource", rid));
  for (const auto& t : e.targets) touched.push_back(find("Target", t));
  json out = json::array();
  for (Association* a : touched) {
    a->disassociated_at = millis(c.call.now);
    a->updated = millis(c.call.now);
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
  std::string status = param_or(c.call, "AssociationStatus", "");
  std::string region = region_of_call(c.call);
  json all = json::array();
  for (const auto& s : c.state.shares) {
    if (s.owner != c.acc.uid || !listed(share_ids, s.id) || !in_region(s, region)) continue;
    for (const auto& a : s.associations) {
      if (a.association_type != type) continue;
      if (!resource_id.empty() && (type != "Resource" || a.entity_id != resource_id)) continue;
      if (!target.empty() && (type != "Target" || a.entity_id != target)) continue;
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
  std::string region = region_of_call(c.call);
  json all = json::array();
  auto add = [&](const ResourceShare& s, const std::string& st) {
    if (!listed(share_ids, s.id) || (!name.empty() && s.name != name) ||
        (!status.empty() && st != status) || !in_region(s, region)) {
      return;
    }
    all.push_back(share_json(s, st));
  };
  if (owner == "Self") {
    for (const auto& s : c.state.shares) {
      if (s.owner == c.acc.uid) add(s, "Active");
    }
  } else {
    std::vector<std::string> seen;
    for (const auto& [s, t] : incoming(c)) {
      if (std::find(seen.begin(), seen.end(), s->id) != seen.end()) continue;
      seen.push_back(s->id);
      // The consumer sees an external share as Pending until it accepts the invitation.
      bool pending = t->external && !invitation_accepted(c.state, s->id, c.acc.uid);
      add(*s, pending ? "Pending" : "Active");
    }
  }
  return ok(c.call, paged(c.call, "ResourceShares", all));
}

json invitation_json(const State& state, const Invitation& inv) {
  std::string name;
  for (const auto& s : state.shares) {
    if (s.id == inv.share_id) name = s.name;
  }
  return {{"ResourceShareInvitationId", inv.id},
          {"ResourceShareId", inv.share_id},
          {"ResourceShareName", name},
          {"SenderAccountId", inv.sender},
          {"ReceiverAccountId", inv.receiver},
          {"CreateTime", iso_millis(inv.created)},
          {"Status", inv.status}};
}

ApiResponse list_invitations(Ctx& c) {
  auto inv_ids = id_list(c.call, "ResourceShareInvitationIds");
  auto share_ids = id_list(c.call, "ResourceShareIds");
  json all = json::array();
  for (const auto& inv : c.state.invitations) {
    if (inv.receiver != c.acc.uid || !listed(inv_ids, inv.id) || !listed(share_ids, inv.share_id)) {
      continue;
    }
    all.push_back(invitation_json(c.state, inv));
  }
  return ok(c.call, paged(c.call, "ResourceShareInvitations", all));
}

Invitation& own_invitation(Ctx& c) {
  std::string id = required_param(c.call, "ResourceShareInvitationId");
  for (auto& inv : c.state.invitations) {
    if (inv.id == id && inv.receiver == c.acc.uid) return inv;
  }
  fail(404, "EntityNotExists.ResourceShareInvitation", "The invitation does not exist: " + id);
}

ApiResponse accept_invitation(Ctx& c) {
  Invitation& inv = own_invitation(c);
  if (inv.status == "Rejected") {
    fail(409, "ResourceShareInvitationStatusMismatch", "The invitation was rejected.");
  }
  if (inv.status == "Pending") {
    inv.status = "Accepted";
    inv.accepted_at = millis(c.call.now);
  }
  return ok(c.call, {{"ResourceShareInvitation", invitation_json(c.state, inv)}});
}

ApiResponse reject_invitation(Ctx& c) {
  Invitation& inv = own_invitation(c);
  if (inv.status == "Accepted") {
    fail(409, "ResourceShareInvitationStatusMismatch", "The invitation was already accepted.");
  }
  inv.status = "Rejected";
  return ok(c.call, {{"ResourceShareInvitation", invitation_json(c.state, inv)}});
}

}  // namespace

std::optional<Clock::time_point> invitation_accepted_at(const State& state,
                                                        std::string_view share_id,
                                                        std::string_view uid) {
  for (const auto& inv : state.invitations) {
    if (inv.share_id == share_id && inv.receiver == uid && inv.status == "Accepted") {
      return inv.accepted_at;
    }
  }
  return std::nullopt;
}

bool invitation_accepted(const State& state, std::string_view share_id, std::string_view uid) {
  return invitation_accepted_at(state, share_id, uid).has_value();
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
    auto accepted = invitation_accepted_at(state, share.id, a.entity_id);
    if (!accepted) return "Associating";
    ready = std::max(ready, *accepted);
  }
  return now >= ready ? "Associated" : "Associating";
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
    if (inv.status != "Pending" || (uid && inv.receiver != *uid)) continue;
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
