#pragma once
// Planner phase: the disk-encryption role AliyunECSDiskEncryptDefaultRole (docs/contract.md §1.6),
// which ECS needs to use the account's own CMKs at all.
//
// With settings.manageDiskEncryptRole (default false) and the role absent: create it (stage 1) with
// the trust policy `Principal.Service ["ecs.aliyuncs.com"]` and the managed-by tag, and attach the
// System policy AliyunECSDiskEncryptRolePolicy (stage 3), as Alibaba's service-linked-role module
// does. A role that exists is never rewritten or deleted: its trust is not compared and nothing is
// ever detached. The one completion it does is attaching the policy to a role that carries our
// managed-by tag and lacks it (we created it and the attach did not happen, e.g. a crash between
// the two writes). Otherwise (the setting off, or a role someone else made that lacks the policy)
// it only notes what it sees. Unread role (a failed call): nothing.
#include "reconcilers/plan_context.hpp"

namespace sharekeeper::reconcilers::planner {

void plan_disk_encrypt_role(AccountContext& a, const PlanInputs& in);

}  // namespace sharekeeper::reconcilers::planner
