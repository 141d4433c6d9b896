#include "reconcilers/kms_plan.hpp"

#include <algorithm>
#include <charconv>
#include <iterator>
#include <tuple>

#include "support/wire.hpp"

namespace sharekeeper::reconcilers::planner {
namespace {

std::set<std::string> resources_of(const KmsPolicyContent& c) {
  std::set<std::string> out(c.key_arns.begin(), c.key_arns.end());
  out.insert(c.list_resources.begin(), c.list_resources.end());
  return out;
}

// The reason of a new default version, from what it adds and drops.
std::string version_reason(const std::vector<std::string>& added,
                           const std::vector<std::string>& dropped, bool revokes) {
  if (!added.empty() && !dropped.empty())
    return "drifted: " + std::to_string(added.size()) + " key/resource(s) missing, " +
           std::to_string(dropped.size()) + " extra";
  if (!added.empty())
    return "drifted: " + std::to_string(added.size()) + " key/resource(s) missing from policy";
  if (!dropped.empty())
    return revokes ? "not in config: " + std::to_string(dropped.size()) + " key/resource(s)"
                   : "rebalanced: keys moved between policies";
  return "drifted: document differs from the stable form";
}

// Plans one KMS policy while the others of the role are planned alike.
class RolePolicies {
 public:
  explicit RolePolicies(const KmsRoleInputs& in) : in_(in), rn_(role_name(in.kind)) {
    const RoleFacts& f = *in_.facts;
    for (const auto& [r, g] : in_.want->resources) final_.insert(r);
    for (const auto& r : f.resources)
      if (in_.revoke->count(r) == 0U) final_.insert(r);
    for (const auto* op : f.owned_policies) owned_[op->name] = op;
  }

  KmsPlan run() {
    KmsPolicyContent content;
    for (const auto& r : final_) {
      if (r.find(":key/") != std::string::npos) {
        content.key_arns.push_back(r);
      } else {
        content.list_resources.push_back(r);
      }
    }
    const auto parts = split_kms_policy(content, wire::kMaxPolicyDocumentChars);
    if (parts.size() > 5)
      out_.notes.push_back(rn_ + " needs " + std::to_string(parts.size()) +
                           " KMS policies; RAM allows 5 custom policies per role");
    std::vector<Slot> slots;
    // Resources whose part cannot be written this pass (a policy not ours holds our name, or its
    // ownership is unknown): no other part may drop them, or moving keys between parts would
    // revoke them without any guard seeing it.
    std::set<std::string> unwritten;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      slots.push_back(slot_of(name(i), in_));
      if (slots.back() == Slot::kForeignAttached || slots.back() == Slot::kUnknown) {
        auto r = resources_of(parts[i]);
        unwritten.insert(r.begin(), r.end());
      }
    }
    std::set<std::string> desired_names;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      desired_names.insert(name(i));
      part(name(i), parts[i], slots[i], unwritten);
    }
    for (const auto& [n, op] : owned_)
      if (desired_names.count(n) == 0U) detach(n, *op);
    full_access();
    return std::move(out_);
  }

 private:
  std::string name(std::size_t i) const {
    return kms_policy_name(in_.instance, in_.kind, static_cast<int>(i + 1));
  }
  Change change(Stage st, Action a, ObjectKind o, const std::string& policy,
                const std::string& type) const {
    Change c = base_change(in_.account, in_.kind, st, a, o);
    c.policy_name = policy;
    c.policy_type = type;
    return c;
  }
  std::vector<GrantRef> grants_of(const std::vector<std::string>& resources) const {
    return in_.grants->refs_of(resources, in_.want->resources);
  }

  void part(const std::string& n, const KmsPolicyContent& content, Slot slot,
            const std::set<std::string>& unwritten) {
    const std::string doc = build_kms_policy(content);
    const std::set<std::string> items = resources_of(content);
    const ObservedPolicy* op = nullptr;
    switch (slot) {
      case Slot::kOurs:
        op = owned_.at(n);
        break;
      case Slot::kOursDetached:
        op = &in_.policies->at(n);
        break;
      case Slot::kForeignAttached:
        out_.notes.push_back("policy " + n + " is attached to " + rn_ +
                             " but not managed by instance '" + in_.instance + "'; not touched");
        return;
      case Slot::kUnknown:
        return;  // could not tell whether it is ours
      case Slot::kFree: {
        Change c =
            change(Stage::kPolicies, Action::kCreatePolicy, ObjectKind::kKmsPolicy, n, "Custom");
        c.document = doc;
        c.added.kms_resources.assign(items.begin(), items.end());
        c.reason = "missing: policy does not exist";
        c.grants = grants_of(c.added.kms_resources);
        Change a = change(Stage::kAttachments, Action::kAttachPolicy, ObjectKind::kAttachment, n,
                          "Custom");
        a.reason = "missing: policy not attached";
        a.grants = c.grants;
        out_.changes.push_back(std::move(c));
        out_.changes.push_back(std::move(a));
        return;
      }
    }
    const bool attached_here = slot == Slot::kOurs;
    if (!attached_here) {
      Change a =
          change(Stage::kAttachments, Action::kAttachPolicy, ObjectKind::kAttachment, n, "Custom");
      a.added.kms_resources.assign(items.begin(), items.end());
      a.reason = "drifted: policy is not attached to the role";
      a.grants = grants_of(a.added.kms_resources);
      out_.changes.push_back(std::move(a));
    }
    if (policies_equivalent(op->default_document, doc)) return;
    std::set<std::string> old_items;
    if (auto oc = parse_kms_policy(op->default_document)) old_items = resources_of(*oc);
    std::vector<std::string> added;
    std::vector<std::string> dropped;
    std::set_difference(items.begin(), items.end(), old_items.begin(), old_items.end(),
                        std::back_inserter(added));
    std::set_difference(old_items.begin(), old_items.end(), items.begin(), items.end(),
                        std::back_inserter(dropped));
    if (std::any_of(dropped.begin(), dropped.end(),
                    [&](const std::string& d) { return unwritten.count(d) != 0U; })) {
      out_.notes.push_back("policy " + n +
                           " not rebalanced: it would drop keys whose new policy cannot be "
                           "written this pass");
      return;
    }
    // A version that drops keys from an attached policy narrows: it waits for the removal stage,
    // after every widening write. An unattached policy grants nothing yet.
    const Stage st = dropped.empty() || !attached_here ? Stage::kPolicies : Stage::kRemovals;
    if (op->versions.size() >= wire::kMaxPolicyVersions) {
      Change d = change(st, Action::kDeletePolicyVersion, ObjectKind::kKmsPolicy, n, "Custom");
      d.version_id = oldest_non_default(op->versions);
      d.reason = "rotation: " + n + " has " + std::to_string(op->versions.size()) +
                 " versions; deleting the oldest non-default one";
      out_.changes.push_back(std::move(d));
    }
    Change c = change(st, Action::kCreatePolicyVersion, ObjectKind::kKmsPolicy, n, "Custom");
    c.document = doc;
    c.added.kms_resources = added;
    // Keys moved to another of our policies are not revocations; only those leaving every policy
    // are.
    if (attached_here)
      for (const auto& d : dropped)
        if (final_.count(d) == 0U) c.removed.kms_resources.push_back(d);
    c.reason = version_reason(added, dropped, !c.removed.empty());
    c.grants = grants_of(added);
    out_.changes.push_back(std::move(c));
  }

  void detach(const std::string& n, const ObservedPolicy& op) {
    Change c =
        change(Stage::kRemovals, Action::kDetachPolicy, ObjectKind::kAttachment, n, "Custom");
    if (auto oc = parse_kms_policy(op.default_document)) {
      for (const auto& k : oc->key_arns)
        if (final_.count(k) == 0U) c.removed.kms_resources.push_back(k);
      for (const auto& k : oc->list_resources)
        if (final_.count(k) == 0U) c.removed.kms_resources.push_back(k);
    }
    c.reason = "not in config: policy no longer needed";
    out_.changes.push_back(std::move(c));
  }

  void full_access() {
    if (in_.want->full_access_grants.empty() || in_.facts->full_access_attached) return;
    Change a = change(Stage::kAttachments, Action::kAttachPolicy, ObjectKind::kAttachment,
                      kFullAccessPolicy, "System");
    a.reason =
        "allowServiceKeyShares: service-key resources need " + std::string(kFullAccessPolicy);
    a.grants = in_.grants->refs(in_.want->full_access_grants);
    out_.changes.push_back(std::move(a));
  }

  const KmsRoleInputs& in_;
  const std::string rn_;
  std::set<std::string> final_;  // every resource the role's policies hold after this plan
  std::map<std::string, const ObservedPolicy*> owned_;  // attached and ours, by name
  KmsPlan out_;
};

}  // namespace

const char* to_string(Slot s) {
  switch (s) {
    case Slot::kOurs:
      return "ours";
    case Slot::kOursDetached:
      return "ours, detached";
    case Slot::kForeignAttached:
      return "foreign, attached";
    case Slot::kUnknown:
      return "unknown";
    case Slot::kFree:
      return "free";
  }
  return "unknown";
}

Slot slot_of(const std::string& name, const KmsRoleInputs& in) {
  const auto& owned = in.facts->owned_policies;
  if (std::any_of(owned.begin(), owned.end(),
                  [&](const ObservedPolicy* p) { return p->name == name; }))
    return Slot::kOurs;
  const auto& attached = in.observed->attached;
  if (std::any_of(attached.begin(), attached.end(),
                  [&](const auto& a) { return a.policy_name == name; }))
    return Slot::kForeignAttached;
  auto pit = in.policies->find(name);
  if (pit == in.policies->end()) return Slot::kFree;
  if (pit->second.managed_by == in.instance && pit->second.versions_known)
    return Slot::kOursDetached;
  return pit->second.tags_known ? Slot::kFree : Slot::kUnknown;
}

KmsPlan plan_kms_policies(const KmsRoleInputs& in) { return RolePolicies(in).run(); }

void plan_kms_phase(AccountContext& a, const PlanInputs& in) {
  for (const RoleContext& role : a.roles) {
    // Only when every attached policy was read: otherwise a rewrite could drop keys we did not see.
    if (!role.facts.policies_known || !role.will_exist) continue;
    KmsRoleInputs ki;
    ki.account = a.plan.account;
    ki.instance = in.instance;
    ki.kind = role.kind;
    ki.observed = &a.obs->role(role.kind);
    ki.policies = &a.obs->policies;
    ki.facts = &role.facts;
    ki.want = &role.want;
    ki.revoke = &role.revoke_resources;
    ki.grants = &a.grants;
    KmsPlan k = plan_kms_policies(ki);
    for (auto& c : k.changes) a.add(std::move(c));
    for (auto& n : k.notes) a.note(std::move(n));
  }
}

std::string oldest_non_default(const std::vector<cloud::PolicyVersion>& versions) {
  const cloud::PolicyVersion* best = nullptr;
  // "v12" -> 12; anything else sorts first.
  auto num = [](const std::string& v) {
    long n = 0;
    if (v.size() > 1) std::from_chars(v.data() + 1, v.data() + v.size(), n);
    return n;
  };
  for (const auto& v : versions) {
    if (v.is_default) continue;
    if (best == nullptr || std::make_tuple(v.create_date, num(v.version_id)) <
                               std::make_tuple(best->create_date, num(best->version_id)))
      best = &v;
  }
  return best ? best->version_id : "";
}

}  // namespace sharekeeper::reconcilers::planner
