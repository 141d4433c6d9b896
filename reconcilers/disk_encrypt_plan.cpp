#include "reconcilers/disk_encrypt_plan.hpp"

#include <algorithm>

#include "support/wire.hpp"

namespace sharekeeper::reconcilers::planner {
namespace {

const std::string& disk_role_name() {
  static const std::string kName(wire::kDiskEncryptRole);
  return kName;
}

Change disk_change(const std::string& account, Stage stage, Action action, ObjectKind object) {
  Change c;
  c.account = account;
  c.stage = stage;
  c.action = action;
  c.object = object;
  c.role = disk_role_name();
  return c;
}

Change attach_change(const std::string& account, std::string reason) {
  Change c =
      disk_change(account, Stage::kAttachments, Action::kAttachPolicy, ObjectKind::kAttachment);
  c.policy_name = std::string(wire::kDiskEncryptRolePolicy);
  c.policy_type = "System";
  c.reason = std::move(reason);
  return c;
}

bool policy_attached(const ObservedRole& r) {
  return std::any_of(r.attached.begin(), r.attached.end(), [](const cloud::AttachedPolicy& p) {
    return p.policy_type == "System" && p.policy_name == wire::kDiskEncryptRolePolicy;
  });
}

}  // namespace

void plan_disk_encrypt_role(AccountContext& a, const PlanInputs& in) {
  const ObservedRole& r = a.obs->disk_role;
  const std::string& account = a.plan.account;
  if (r.presence == Presence::kUnknown) return;
  if (!in.settings->manage_disk_encrypt_role) {
    if (r.presence == Presence::kAbsent)
      a.note(disk_role_name() +
             " does not exist: ECS cannot use this account's CMKs until it is authorised "
             "(console, or settings.manageDiskEncryptRole: true)");
    return;
  }
  if (r.presence == Presence::kAbsent) {
    Change c = disk_change(account, Stage::kRoles, Action::kCreateRole, ObjectKind::kRole);
    c.document = build_service_trust_policy(wire::kEcsService);
    c.reason = "missing: ECS needs it to use the account's CMKs (settings.manageDiskEncryptRole)";
    a.add(std::move(c));
    a.add(attach_change(account, "the disk-encryption role's System policy"));
    return;
  }
  if (!r.attachments_known || policy_attached(r)) return;
  if (r.tags_known && r.managed_by == in.instance) {
    a.add(attach_change(account, "ours, created without its System policy"));
  } else {
    a.note(disk_role_name() + " exists without " + std::string(wire::kDiskEncryptRolePolicy) +
           " attached and was not created by sharekeeper: not changed (ECS may be unable to use "
           "the account's CMKs)");
  }
}

}  // namespace sharekeeper::reconcilers::planner
