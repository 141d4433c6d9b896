#include "reconcilers/render.hpp"

#include "reconcilers/explain.hpp"

#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

namespace sharekeeper::reconcilers {
namespace {

using nlohmann::json;

char symbol(Action a) {
  switch (a) {
    case Action::kCreateRole:
    case Action::kCreatePolicy:
    case Action::kAttachPolicy:
      return '+';
    case Action::kUpdateTrustPolicy:
    case Action::kCreatePolicyVersion:
      return '~';
    case Action::kDeletePolicyVersion:
    case Action::kDetachPolicy:
    case Action::kDisassociateResourceShare:
      return '-';
    case Action::kTagImage:
    case Action::kUpdateResourceShare:
      return '~';
    case Action::kCreateResourceShare:
    case Action::kAssociateResourceShare:
      return '+';
    case Action::kModifyImageShare:
      return '?';  // decided by the change (title_symbol)
  }
  return '?';
}

char symbol(const Change& c) {
  if (c.action == Action::kModifyImageShare) return c.removed.empty() ? '+' : '-';
  return symbol(c.action);
}

// "<label>[, <label>...]" of a share change's targets and resources.
std::string joined(const std::vector<std::string>& labels) {
  std::string out;
  for (const auto& l : labels) out += (out.empty() ? "" : ", ") + l;
  return out;
}
std::string joined(const std::vector<Principal>& principals) {
  std::vector<std::string> labels;
  labels.reserve(principals.size());
  for (const auto& p : principals) labels.push_back(p.label());
  return joined(labels);
}

std::string title(const Change& c) {
  switch (c.action) {
    case Action::kCreateRole:
      return "role " + c.role + " (create, with trust policy)";
    case Action::kUpdateTrustPolicy:
      return "role " + c.role + " trust policy";
    case Action::kCreatePolicy:
      return "policy " + c.policy_name + " (create)";
    case Action::kCreatePolicyVersion:
      return "policy " + c.policy_name + " (new default version)";
    case Action::kDeletePolicyVersion:
      return "policy " + c.policy_name + " version " + c.version_id;
    case Action::kAttachPolicy:
    case Action::kDetachPolicy:
      return "attachment " + c.policy_type + " " + c.policy_name + " -> " + c.role;
    case Action::kTagImage:
      return "image " + c.image_id + " (tag " + kManagedByTagKey + ")";
    case Action::kModifyImageShare: {
      const Items& items = c.removed.empty() ? c.added : c.removed;
      return std::string(c.removed.empty() ? "share" : "unshare") + " image " + c.image_id +
             " -> " + joined(items.labels());
    }
    case Action::kCreateResourceShare:
      return "resource share " + c.resource_share_name + " (create" +
             (c.allow_external_targets ? ", external targets allowed" : "") +
             "): " + joined(c.added.share_resources) + " -> " + joined(c.added.principals);
    case Action::kUpdateResourceShare:
      return "resource share " + c.resource_share_name + " (allow external targets)";
    case Action::kAssociateResourceShare:
    case Action::kDisassociateResourceShare: {
      const Items& items = c.action == Action::kAssociateResourceShare ? c.added : c.removed;
      std::string what = joined(items.share_resources);
      const std::string to = joined(items.principals);
      if (!what.empty() && !to.empty()) what += " -> ";
      return std::string(c.action == Action::kAssociateResourceShare ? "share" : "unshare") +
             " via resource share " + c.resource_share_name + ": " + what + to;
    }
  }
  return "";
}

std::string grant_counts(const Plan& p) {
  std::map<GrantState, int> counts;
  for (const auto& g : p.grants) ++counts[g.state];
  std::string out;
  for (GrantState s : config::kAllGrantStates) {
    if (counts[s] == 0) continue;
    if (!out.empty()) out += ", ";
    out += std::to_string(counts[s]) + " " + to_string(s);
  }
  return out.empty() ? "none" : out;
}

json change_json(const Change& c) {
  json j = json::object();
  j["account"] = c.account;
  j["stage"] = static_cast<int>(c.stage);
  j["action"] = to_string(c.action);
  j["object"] = to_string(c.object);
  j["role"] = c.role;
  if (!c.policy_name.empty()) {
    j["policy_name"] = c.policy_name;
    j["policy_type"] = c.policy_type;
  }
  if (!c.version_id.empty()) j["version_id"] = c.version_id;
  if (!c.document.empty()) j["document"] = c.document;
  if (!c.region.empty()) j["region"] = c.region;
  if (!c.image_id.empty()) j["image"] = c.image_id;
  if (!c.resource_share_name.empty()) {
    j["resource_share"] = c.resource_share_name;
    if (!c.resource_share_id.empty()) j["resource_share_id"] = c.resource_share_id;
  }
  if (c.action == Action::kCreateResourceShare)
    j["allow_external_targets"] = c.allow_external_targets;
  j["added"] = c.added.labels();
  j["removed"] = c.removed.labels();
  j["reason"] = c.reason;
  json grants = json::array();
  for (const auto& g : c.grants) grants.push_back(g.label());
  j["grants"] = std::move(grants);
  j["revocation"] = c.is_revocation();
  return j;
}

json chain_json(const std::vector<ChainLink>& links) {
  json out = json::array();
  for (const auto& l : links) {
    json jl = {
        {"link", to_string(l.link)}, {"state", to_string(l.state)}, {"observed", l.observed}};
    if (!l.remedy.empty()) jl["remedy"] = l.remedy;
    out.push_back(std::move(jl));
  }
  return out;
}

json grant_json(const GrantStatus& g) {
  json j = json::object();
  j["share"] = g.share;
  j["account"] = g.account;
  j["target_type"] = to_string(g.target.type);
  j["target"] = g.target.id;
  j["state"] = to_string(g.state);
  j["reason"] = g.reason;
  j["blocked_by"] = g.blocked_by.empty() ? json(nullptr) : json(g.blocked_by);
  json rs = json::array();
  for (const auto& r : g.resources) {
    json jr = {{"resource", r.resource_id},
               {"region", r.region},
               {"state", to_string(r.state)},
               {"reason", r.reason},
               {"keys", r.key_ids},
               {"sharing", to_string(r.sharing)},
               {"sharing_detail", r.sharing_detail}};
    // The chain of links (reconcilers/chain.hpp) of grants that are not Ready: why not.
    if (!r.foreign_accounts.empty()) jr["foreign_accounts"] = r.foreign_accounts;
    if (g.state != GrantState::kReady) jr["chain"] = chain_json(r.chain);
    rs.push_back(std::move(jr));
  }
  j["resources"] = rs;
  return j;
}

}  // namespace

std::string render_summary_line(const Plan& p) {
  std::ostringstream out;
  out << "Plan: " << p.summary.add << " to add, " << p.summary.change << " to change, "
      << p.summary.remove << " to remove; " << p.summary.revocations << " revocation(s), "
      << p.summary.blocked_revocations << " blocked. Grants: " << grant_counts(p) << ".";
  return out.str();
}

std::string render_text(const Plan& p) {
  std::ostringstream out;
  out << "sharekeeper plan: instance \"" << p.instance << "\", config revision " << p.revision
      << "\n";
  for (const auto& a : p.accounts) {
    out << "\naccount " << a.account << " (" << (a.uid.empty() ? "uid unknown" : a.uid) << ")\n";
    if (!a.error.empty()) out << "  ! error: " << a.error << "\n";
    if (a.partial) out << "  ! partial observation: no revocations planned for this account\n";
    for (const auto& e : a.observation_errors) out << "  ! failed call: " << e << "\n";
    for (const auto& e : a.sharing_errors)
      out << "  ! failed call (sharing report only): " << e << "\n";
    if (a.changes.empty() && a.error.empty()) out << "  no changes\n";
    for (const auto& c : a.changes) {
      out << "  " << symbol(c) << " " << title(c) << "  [stage " << static_cast<int>(c.stage)
          << ": " << to_string(c.action) << "]\n";
      for (const auto& x : c.added.labels()) out << "      + " << x << "\n";
      for (const auto& x : c.removed.labels()) out << "      - " << x << "\n";
      out << "      reason: " << c.reason << "\n";
      if (!c.grants.empty()) {
        out << "      grants:";
        for (const auto& g : c.grants) out << " " << g.label() << ";";
        out << "\n";
      }
    }
    for (const auto& b : p.blocked) {
      if (b.account != a.account) continue;
      out << "  ! blocked revocation: - " << b.item_label() << " from " << b.object_label() << " ("
          << to_string(b.guard) << ": " << b.detail << ")\n";
    }
    for (const auto& n : a.notes) out << "  # " << n.message << "\n";
  }
  if (!p.grants.empty()) {
    out << "\ngrants:\n";
    for (const auto& g : p.grants) {
      std::string state = to_string(g.state);
      out << "  " << state << std::string(state.size() < 9 ? 9 - state.size() : 1, ' ') << g.share
          << " -> " << label(g.target);
      if (!g.reason.empty()) out << "  (" << g.reason << ")";
      if (g.state != GrantState::kReady && !g.blocked_by.empty())
        out << "  [blocked by: " << g.blocked_by << "]";
      out << "\n";
    }
  }
  out << "\n" << render_summary_line(p) << "\n";
  return out.str();
}

namespace {

json plan_value(const Plan& p) {
  json j = json::object();
  j["instance"] = p.instance;
  j["revision"] = p.revision;
  j["has_changes"] = p.has_changes();
  j["has_errors"] = p.has_errors();
  json accounts = json::array();
  for (const auto& a : p.accounts) {
    json ja = json::object();
    ja["account"] = a.account;
    ja["uid"] = a.uid;
    ja["error"] = a.error;
    ja["partial"] = a.partial;
    ja["observation_errors"] = a.observation_errors;
    ja["sharing_errors"] = a.sharing_errors;
    json changes = json::array();
    for (const auto& c : a.changes) changes.push_back(change_json(c));
    ja["changes"] = changes;
    json notes = json::array();
    for (const auto& n : a.notes) notes.push_back(n.message);
    ja["notes"] = notes;
    accounts.push_back(ja);
  }
  j["accounts"] = accounts;
  json blocked = json::array();
  for (const auto& b : p.blocked)
    blocked.push_back({{"account", b.account},
                       {"object", b.object_label()},
                       {"item", b.item_label()},
                       {"guard", to_string(b.guard)},
                       {"detail", b.detail}});
  j["blocked_revocations"] = blocked;
  json grants = json::array();
  for (const auto& g : p.grants) grants.push_back(grant_json(g));
  j["grants"] = grants;
  j["summary"] = {{"add", p.summary.add},
                  {"change", p.summary.change},
                  {"remove", p.summary.remove},
                  {"revocations", p.summary.revocations},
                  {"blocked_revocations", p.summary.blocked_revocations},
                  {"grants_in_place", p.summary.grants_in_place}};
  return j;
}

}  // namespace

std::string render_json(const Plan& p) { return plan_value(p).dump(2) + "\n"; }

std::string render_json_compact(const Plan& p) { return plan_value(p).dump(); }

std::string render_markdown(const Plan& p) {
  auto code = [](const std::string& s) { return "`" + s + "`"; };
  std::ostringstream out;
  out << "### sharekeeper plan\n\n**" << render_summary_line(p) << "**\n\nInstance "
      << code(p.instance) << ", config revision " << code(p.revision) << ".\n";
  for (const auto& a : p.accounts) {
    out << "\n#### account " << code(a.account) << " (" << code(a.uid) << ")\n\n";
    if (!a.error.empty()) out << "> :x: " << a.error << "\n\n";
    if (a.partial)
      out << "> :warning: partial observation: no revocations planned for this account\n\n";
    if (a.changes.empty()) {
      out << "No changes.\n";
    } else {
      out << "| | object | stage | change | reason |\n|---|---|---|---|---|\n";
      for (const auto& c : a.changes) {
        std::string delta;
        for (const auto& x : c.added.labels())
          delta += (delta.empty() ? "" : "<br>") + std::string("+ ") + code(x);
        for (const auto& x : c.removed.labels())
          delta += (delta.empty() ? "" : "<br>") + std::string("- ") + code(x);
        out << "| " << symbol(c) << " | " << title(c) << " | " << static_cast<int>(c.stage) << " "
            << to_string(c.action) << " | " << delta << " | " << c.reason << " |\n";
      }
    }
    bool any_blocked = false;
    for (const auto& b : p.blocked) {
      if (b.account != a.account) continue;
      if (!any_blocked) out << "\n**Blocked revocations**\n\n";
      any_blocked = true;
      out << "- " << code(b.item_label()) << " from " << b.object_label() << ": "
          << to_string(b.guard) << " (" << b.detail << ")\n";
    }
    if (!a.notes.empty()) {
      out << "\n**Notes**\n\n";
      for (const auto& n : a.notes) out << "- " << n.message << "\n";
    }
  }
  if (!p.grants.empty()) {
    out << "\n#### grants\n\n| state | share | target | reason |\n|---|---|---|---|\n";
    for (const auto& g : p.grants)
      out << "| " << to_string(g.state) << " | " << code(g.share) << " | " << code(label(g.target))
          << " | " << g.reason
          << (g.state != GrantState::kReady && !g.blocked_by.empty()
                  ? " (blocked by " + code(g.blocked_by) + ")"
                  : std::string())
          << " |\n";
  }
  return out.str();
}

std::string render_explanation_json(const Explanation& e) {
  json j = json::object();
  j["resource"] = e.resource_id;
  j["target_type"] = to_string(e.target.type);
  j["target"] = e.target.id;
  j["account"] = e.account;
  j["uid"] = e.uid;
  j["region"] = e.region;
  j["found"] = e.found;
  j["looked_in"] = e.looked_in;
  j["errors"] = e.errors;
  j["links"] = chain_json(e.chain.links);
  const ChainLink* b = e.chain.blocked_by();
  j["usable"] = e.exit_code() == 0;
  j["blocked_by"] = b == nullptr ? json(nullptr) : json(to_string(b->link));
  return j.dump(2) + "\n";
}

std::string render_apply_text(const ApplyResult& r) {
  std::ostringstream out;
  for (const auto& a : r.accounts) {
    out << "account " << a.account << ": " << a.writes << " write(s), " << a.failed << " failed\n";
    for (const auto& c : a.results) {
      out << "  " << (c.ok ? "ok     " : (c.skipped ? "skipped" : "FAILED ")) << " "
          << symbol(c.change) << " " << title(c.change);
      if (c.re_observed) out << " (outcome was unknown; re-observed)";
      for (std::size_t i = 0; i < c.writes.size(); ++i)
        out << (i == 0 ? " [RequestId " : ", ") << c.writes[i].request_id
            << (i + 1 == c.writes.size() ? "]" : "");
      if (c.error) out << ": " << c.error->to_string();
      if (!c.detail.empty()) out << ": " << c.detail;
      out << "\n";
    }
  }
  if (r.residual.has_changes() || r.residual.has_errors()) {
    out << "\nStill differs after " << r.verify_rounds << " verification round(s):\n"
        << render_text(r.residual);
  } else {
    out << "\nVerified: the cloud matches the plan (" << r.verify_rounds
        << " verification round(s)). "
        << "Grants: " << grant_counts(r.residual) << ".\n";
  }
  return out.str();
}

}  // namespace sharekeeper::reconcilers
