// GET /_emulator/access: can this account really use that shared snapshot or image? Every unmet
// prerequisite of docs/contract.md §1 is one reason: shared to it (image share permission, or an
// Associated Resource Sharing association of an Active share to the account, its RD or a folder
// on its RD path, invitation accepted and not expired), not a service key, the key enabled, ECS
// authorised to use the owner's CMKs (AliyunECSDiskEncryptDefaultRole), the sharer's share role
// exists, trusts the account's ECS, and its attached policies (default versions) allow the KMS
// actions on the key.
#include <algorithm>

#include "emulator/model_state.hpp"
#include "emulator/policy_eval.hpp"
#include "support/wire.hpp"

namespace sharekeeper::emulator {

namespace {

using nlohmann::json;

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

// Why the resource is not (yet) shared with the account; empty when it is.
std::optional<std::string> share_gap(const State& state, const ModelOptions& options,
                                     const Account& owner, const ResourceRef& ref,
                                     std::string_view uid, std::string_view resource_id,
                                     Clock::time_point now) {
  if (ref.image != nullptr &&
      std::any_of(ref.image->shares.begin(), ref.image->shares.end(),
                  [&](const ImageShare& s) { return s.account_uid == uid; })) {
    return std::nullopt;
  }
  std::vector<std::string> waiting;
  for (const auto& share : state.shares) {
    if (share.owner != owner.uid) continue;
    const Association* resource = nullptr;
    for (const auto& a : share.associations) {
      if (a.association_type == "Resource" && a.entity_id == resource_id) resource = &a;
    }
    if (resource == nullptr) continue;
    const std::string share_state = share_status(share, options, now);
    if (share_state != "Active") {
      // Deleting or Deleted: every association is going or gone with it.
      bool reached =
          std::any_of(share.associations.begin(), share.associations.end(),
                      [&](const Association& t) { return target_reaches(state, t, uid); });
      if (reached) waiting.push_back("resource share " + share.id + " is " + share_state);
      continue;
    }
    std::string resource_status = association_status(state, share, *resource, options, now);
    for (const auto& t : share.associations) {
      if (!target_reaches(state, t, uid)) continue;
      std::string target_status = association_status(state, share, t, options, now);
      if (resource_status == "Associated" && target_status == "Associated") return std::nullopt;
      const Invitation* inv =
          t.external ? latest_invitation(state, share.id, t.entity_id) : nullptr;
      const std::string inv_state = inv != nullptr ? inv->status_at(now) : "";
      if (t.external && !t.disassociated_at && inv_state == "Pending") {
        waiting.push_back("resource share " + share.id + " waits for " + std::string(uid) +
                          " to accept its invitation " + inv->id + " (sent " +
                          iso_seconds(inv->created) + ", expires " +
                          iso_seconds(inv->created + kInvitationValidity) + ")");
      } else if (t.external && !t.disassociated_at &&
                 (inv_state == "Rejected" || inv_state == "Expired")) {
        waiting.push_back("resource share " + share.id + ": the invitation to " + std::string(uid) +
                          " was " + lower(inv_state) +
                          (inv_state == "Expired" ? " (valid 7 days)" : "") +
                          "; associate the target again to invite it again");
      } else {
        std::string why;
        for (const Association* a : {resource, &t}) {
          if (a->failed && !a->failure_message.empty()) why += ": " + a->failure_message;
        }
        waiting.push_back("resource share " + share.id + ": resource " + resource_status +
                          ", target " + t.entity_id + " " + target_status + why);
      }
    }
  }
  std::string what = ref.snapshot != nullptr ? "snapshot" : "image";
  std::string msg = "not shared: " + what + " " + std::string(resource_id) +
                    " is not shared with account " + std::string(uid) + " (";
  msg += ref.image != nullptr ? "no image share permission, " : "";
  msg += waiting.empty() ? "no Associated resource share targets it, its RD or its folders)"
                         : join(waiting) + ")";
  return msg;
}

}  // namespace

json evaluate_access(const State& state, const ModelOptions& options, std::string_view account_uid,
                     std::string_view resource_id, Clock::time_point now) {
  json reasons = json::array();
  ResourceRef ref = find_resource(state, resource_id);
  if (ref.owner == nullptr) {
    reasons.push_back("resource " + std::string(resource_id) + " does not exist");
    return {{"usable", false}, {"reasons", reasons}};
  }
  const Account& owner = *ref.owner;
  json out = {{"resource", resource_id}, {"owner", owner.uid}, {"account", account_uid}};
  const KmsKey* key = resource_key(owner, ref);
  // What the owner's own ECS needs as well: a CMK that is enabled and that ECS is authorised to use
  // (ECS docs: sharing an encrypted resource needs AliyunECSDiskEncryptDefaultRole in addition to
  // the share role).
  auto key_gaps = [&] {
    if (key == nullptr || key->is_service_key()) return;
    if (key->state != "Enabled") reasons.push_back("KMS key " + key->key_id + " is " + key->state);
    if (auto gap = disk_encrypt_gap(owner, *key)) reasons.push_back(*gap);
  };
  if (owner.uid == account_uid) {
    key_gaps();
    out["encrypted"] = key != nullptr;
    out["usable"] = reasons.empty();
    out["reasons"] = reasons;
    return out;
  }
  if (auto gap = share_gap(state, options, owner, ref, account_uid, resource_id, now)) {
    reasons.push_back(*gap);
  }
  out["encrypted"] = key != nullptr;
  if (key != nullptr) {
    std::string arn = key_arn(owner, *key);
    out["kmsKeyArn"] = arn;
    if (key->is_service_key()) {
      reasons.push_back("encrypted with service key " + key->key_id +
                        " (alias/acs/ecs): resources under a service key cannot be shared; copy "
                        "them with a customer master key");
    } else {
      key_gaps();
      std::string_view role_name =
          ref.snapshot != nullptr ? wire::kSnapshotShareRole : wire::kImageShareRole;
      const Role* role = find_role(owner, role_name);
      if (role == nullptr) {
        reasons.push_back("share role " + std::string(role_name) + " does not exist in account " +
                          owner.uid);
      } else {
        std::string principal = std::string(account_uid) + std::string(wire::kEcsServiceSuffix);
        auto matcher = [&](std::string_view kind, std::string_view value) {
          return kind == "Service" && policy::wildcard_match(value, principal, true);
        };
        auto trust = policy::evaluate_trust(role->trust, "sts:AssumeRole", matcher,
                                            rd_context(state, account_uid));
        if (trust == policy::Decision::ExplicitDeny) {
          reasons.push_back("trust policy of " + role->name + " explicitly denies " + principal);
        } else if (trust != policy::Decision::Allow) {
          reasons.push_back("trust policy of " + role->name + " does not admit " + principal +
                            " (neither the account nor *@ecs.aliyuncs.com with its RD id or RD "
                            "path condition)");
        }
        const std::vector<json> documents = attached_documents(owner, *role);
        auto check = [&](const std::vector<std::string>& actions, const std::string& resource) {
          std::vector<std::string> missing;
          std::vector<std::string> denied;
          for (const auto& action : actions) {
            auto d = policy::evaluate(documents, {action, resource, {}});
            if (d == policy::Decision::ExplicitDeny) denied.push_back(action);
            if (d == policy::Decision::ImplicitDeny) missing.push_back(action);
          }
          if (!denied.empty()) {
            reasons.push_back("policies attached to " + role->name + " explicitly deny " +
                              join(denied) + " on " + resource);
          }
          if (!missing.empty()) {
            reasons.push_back("policies attached to " + role->name + " do not allow " +
                              join(missing) + " on " + resource);
          }
        };
        check({"kms:DescribeKey", "kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"}, arn);
        check({"kms:ListKeys", "kms:ListAliases"},
              "acs:kms:" + key->region + ":" + owner.uid + ":key");
      }
    }
  }
  out["usable"] = reasons.empty();
  out["reasons"] = reasons;
  return out;
}

}  // namespace sharekeeper::emulator
