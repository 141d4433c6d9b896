#include "reconcilers/import.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "config/formats.hpp"
#include "config/grant.hpp"
#include "reconcilers/chain.hpp"
#include "reconcilers/principal.hpp"

namespace sharekeeper::reconcilers {
namespace {

// A YAML double-quoted scalar: a JSON string is one.
std::string q(const std::string& s) { return nlohmann::json(s).dump(); }

std::string duration(std::chrono::seconds d) {
  long long s = d.count();
  std::string out;
  if (s >= 3600) out += std::to_string(s / 3600) + "h";
  if (s % 3600 >= 60) out += std::to_string((s % 3600) / 60) + "m";
  if (s % 60 != 0 || out.empty()) out += std::to_string(s % 60) + "s";
  return out;
}

std::string number(double v) {
  std::ostringstream o;
  o << v;
  return o.str();
}

std::string list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + q(items[i]);
  return out + "]";
}

const char* source_name(config::CredentialSource s) {
  switch (s) {
    case config::CredentialSource::kDefault:
      return "default";
    case config::CredentialSource::kEnv:
      return "env";
    case config::CredentialSource::kProfile:
      return "profile";
    case config::CredentialSource::kEcsRamRole:
      return "ecsRamRole";
    case config::CredentialSource::kOidc:
      return "oidc";
    case config::CredentialSource::kAssumeRole:
      return "assumeRole";
  }
  return "default";
}

// ---- What exists: the resources to look at in one region of one account.
//
// NOTE: a separate, read-only listing through CloudApi of every own image and of the resources in
// the account's own resource shares. Whom each one is shared with is then read by observe() (its
// ObservedShares); this function only finds the candidates and is meant to be replaced by the
// share observation of issue 12 when that lists an account's shares as a whole.
struct Found {
  std::set<std::string> images;
  std::set<std::string> snapshots;
};

support::Result<Found, support::Failure> find_resources(cloud::CloudApi& api,
                                                        const std::string& account,
                                                        const std::string& region) {
  Found f;
  auto images = api.list_own_images(region);
  if (!images)
    return support::Failure{"account " + account + ", " + region +
                            ": listing its images failed: " + images.error().to_string()};
  for (const auto& i : *images) f.images.insert(i.image_id);
  auto assoc = api.list_resource_share_associations(region, "Resource", {});
  if (!assoc)
    return support::Failure{"account " + account + ", " + region +
                            ": listing its resource shares failed: " + assoc.error().to_string()};
  for (const auto& a : *assoc) {
    if (ObservedShares::Association::rank(a.association_status) == 0) continue;
    if (config::format::is_snapshot_id(a.entity_id)) f.snapshots.insert(a.entity_id);
    if (config::format::is_image_id(a.entity_id)) f.images.insert(a.entity_id);
  }
  return f;
}

// The regions an account uses, when no --region is given: ECS DescribeRegions (asked of the
// endpoint of the first region of the account's shares, else cn-hangzhou), then in each region
// the same two listings as above; a region is used when it holds an own image or a resource in
// one of the account's resource shares, or a share of the config names it. Bounded: at most
// kMaxRegions regions (1 + 2 x regions calls). A failed listing fails the import, naming the
// region (name the regions with --region to leave it out).
constexpr std::size_t kMaxRegions = 64;

support::Result<std::map<std::string, Found>, support::Failure> regions_used(
    cloud::CloudApi& api, const config::DesiredState& given, const config::Account& account) {
  std::set<std::string> named;
  for (const auto& s : given.shares)
    if (s.account == account.name) named.insert(s.region);
  const std::string ask = named.empty() ? std::string("cn-hangzhou") : *named.begin();
  auto listed = api.describe_regions(ask);
  if (!listed)
    return support::Failure{"account " + account.name +
                            ": listing its regions (ECS DescribeRegions) failed: " +
                            listed.error().to_string() + "; name the regions with --region"};
  std::set<std::string> regions(named.begin(), named.end());
  for (const auto& r : *listed)
    if (config::format::is_region_id(r)) regions.insert(r);
  if (regions.size() > kMaxRegions)
    return support::Failure{"account " + account.name + ": " + std::to_string(regions.size()) +
                            " regions to look in, more than " + std::to_string(kMaxRegions) +
                            "; name the regions with --region"};
  std::map<std::string, Found> out;
  for (const auto& r : regions) {
    auto f = find_resources(api, account.name, r);
    if (!f) return std::move(f).error();
    if (f->images.empty() && f->snapshots.empty() && named.count(r) == 0U) continue;
    out[r] = std::move(*f);
  }
  return out;
}

// A share name from a tag value or an id: [A-Za-z0-9._-], starting alphanumeric, at most 50.
std::string sanitize(const std::string& s) {
  std::string out;
  for (char c : s) {
    const bool ok =
        std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-';
    out += ok ? c : '-';
  }
  while (!out.empty() && std::isalnum(static_cast<unsigned char>(out.front())) == 0)
    out.erase(out.begin());
  if (out.size() > 40) out.resize(40);
  return out;
}

struct Pair {
  std::string resource;
  config::GrantTarget target;
};

// One share to write: the resources of one account and region with the same targets.
struct Group {
  std::string account;
  std::string region;
  std::vector<config::GrantTarget> targets;
  std::vector<std::string> images, snapshots;
  std::vector<std::string> notes;  // comments above the entry
  std::string name;
};

std::string name_tag(const ObservedRegion& r, const std::string& id) {
  const std::vector<cloud::Tag>* tags = nullptr;
  if (auto it = r.images.find(id); it != r.images.end()) tags = &it->second.image.tags;
  if (auto it = r.snapshots.find(id); it != r.snapshots.end()) tags = &it->second.snapshot.tags;
  if (tags != nullptr)
    for (const auto& t : *tags)
      if (t.key == "Name" || t.key == "name") return sanitize(t.value);
  return "";
}

// The image's own name when it has no Name tag ("" for snapshots, which the API names no further).
std::string image_name(const ObservedRegion& r, const std::string& id) {
  if (auto it = r.images.find(id); it != r.images.end())
    return sanitize(it->second.image.image_name);
  return "";
}

class Importer {
 public:
  Importer(const config::DesiredState& given, const Observation& obs) : given_(given), obs_(obs) {}

  ImportResult run(const std::map<std::string, std::map<std::string, Found>>& found) {
    for (const auto& [account, regions] : found)
      for (const auto& [region, f] : regions) collect(account, region, f);
    name_groups();
    unshared_principals();
    ImportResult out;
    out.yaml = render(out);
    return out;
  }

 private:
  // The folder path a trust principal of the role gives a folder id ("" when none does).
  static std::string folder_path(const AccountObservation& o, RoleKind kind,
                                 const std::string& folder_id) {
    auto tp = parse_trust_policy(o.role(kind).role.trust_policy);
    if (!tp) return "";
    for (const auto& p : tp->folders) {
      const auto slash = p.rfind('/');
      if (slash != std::string::npos && p.substr(slash + 1) == folder_id) return p;
    }
    return "";
  }

  void collect(const std::string& account, const std::string& region, const Found& f) {
    const AccountObservation& o = obs_.accounts.at(account);
    const config::Account& acc = *given_.find_account(account);
    auto rit = o.regions.find(region);
    if (rit == o.regions.end()) return;
    const ObservedRegion& r = rit->second;
    // resource -> targets it is shared with (image share permission, associations in progress or
    // done), in target order.
    std::map<std::string, std::set<config::GrantTarget>> shared;
    auto add_targets = [&](const std::string& id, RoleKind kind) {
      if (auto it = r.shares.image_accounts.find(id); it != r.shares.image_accounts.end())
        for (const auto& uid : it->second) shared[id].insert({config::TargetType::kAccount, uid});
      auto pairs = r.shares.resource_targets.find(id);
      if (pairs == r.shares.resource_targets.end()) return;
      for (const auto& [target, a] : pairs->second) {
        if (a.status != "Associated" && a.status != "Associating") continue;
        if (given_.settings.manage_shares) {
          // With manageShares, sharekeeper shares through one resource share of its own per share
          // entry: adopting a pair held by this one would create that share (a change).
          comment(id + " -> " + target + " (resource share " + a.resource_share_id +
                  "): not imported: with settings.manageShares sharekeeper would share it through "
                  "a resource share of its own (import with manageShares: false to adopt it as "
                  "RAM/KMS only)");
          continue;
        }
        if (config::format::is_account_uid(target)) {
          if (target != o.uid) shared[id].insert({config::TargetType::kAccount, target});
        } else if (config::format::is_rd_id(target)) {
          shared[id].insert({config::TargetType::kResourceDirectory, target});
        } else {
          const std::string path =
              config::format::is_folder_id(target) ? folder_path(o, kind, target) : "";
          if (!path.empty()) {
            shared[id].insert({config::TargetType::kFolder, path});
          } else {
            comment(id + " -> " + target + " (resource share " + a.resource_share_id +
                    "): not imported: the folder's path is not known from the trust policy of " +
                    role_name(kind) + " (write it as rd-.../r-.../" + target + " yourself)");
          }
        }
      }
    };
    // Only what is in this region: a listing may name resources of other regions (an endpoint
    // that does not say its region), and those are found in their own.
    auto present = [&](const std::string& id) {
      if (auto it = r.images.find(id); it != r.images.end())
        return it->second.presence == Presence::kPresent;
      auto it = r.snapshots.find(id);
      return it != r.snapshots.end() && it->second.presence == Presence::kPresent;
    };
    for (const auto& id : f.images)
      if (present(id)) add_targets(id, RoleKind::kImage);
    for (const auto& id : f.snapshots)
      if (present(id)) add_targets(id, RoleKind::kSnapshot);

    // Each pair is written when adopting it changes nothing: the role, its trust and a KMS grant
    // are in place (or not needed). Its other broken links are noted.
    std::map<std::vector<config::GrantTarget>, Group> groups;
    for (const auto& [id, targets] : shared) {
      std::vector<config::GrantTarget> kept;
      std::vector<std::string> notes;
      for (const auto& t : targets) {
        Chain c = explain_chain(o, acc, given_.settings.instance_name, region, id, t);
        const ChainLink* missing = nullptr;
        for (const auto& l : c.links)
          if ((l.link == Link::kShareRole || l.link == Link::kTrust ||
               l.link == Link::kKmsPolicy) &&
              l.state == LinkState::kBroken && missing == nullptr)
            missing = &l;
        if (missing != nullptr) {
          comment(id + " -> " + label(t) + ": shared, but not imported: " + missing->observed +
                  " (adopting it would change the cloud; add it to a share to grant it)");
          continue;
        }
        for (const auto& l : c.links)
          if (l.state == LinkState::kBroken && l.link != Link::kShare)
            notes.push_back(id + " -> " + label(t) + ": " + to_string(l.link) +
                            " broken: " + l.observed);
        kept.push_back(t);
        ++pairs_;
      }
      if (kept.empty()) continue;
      Group& g = groups[kept];
      g.account = account;
      g.region = region;
      g.targets = kept;
      (id.rfind("m-", 0) == 0 ? g.images : g.snapshots).push_back(id);
      g.notes.insert(g.notes.end(), notes.begin(), notes.end());
    }
    for (auto& [targets, g] : groups) {
      // Targets the role trusts because of this group.
      for (const auto& t : g.targets) {
        if (!g.images.empty()) used_[{account, RoleKind::kImage}].insert(Principal::of(t));
        if (!g.snapshots.empty()) used_[{account, RoleKind::kSnapshot}].insert(Principal::of(t));
      }
      // The name: the resources' common Name tag, else the first one's tag or id.
      std::vector<std::string> ids = g.images;
      ids.insert(ids.end(), g.snapshots.begin(), g.snapshots.end());
      std::set<std::string> tagged;
      for (const auto& id : ids) tagged.insert(name_tag(r, id));
      std::string base = tagged.size() == 1 && !tagged.begin()->empty() ? *tagged.begin() : "";
      if (base.empty()) {
        base = name_tag(r, ids.front());
        if (base.empty()) base = image_name(r, ids.front());
        if (base.empty()) base = ids.front();
        if (ids.size() > 1) base += "-and-" + std::to_string(ids.size() - 1) + "-more";
        if (ids.size() > 1)
          g.notes.emplace_back(
              "named after its first resource: the resources carry no common Name tag");
      }
      g.name = base;
      out_.push_back(std::move(g));
    }
  }

  void name_groups() {
    std::sort(out_.begin(), out_.end(), [](const Group& a, const Group& b) {
      return std::tie(a.account, a.region, a.name) < std::tie(b.account, b.region, b.name);
    });
    std::set<std::string> taken;
    for (auto& g : out_) {
      std::string n = sanitize(g.name);
      if (n.empty()) n = "share";
      if (given_.accounts.size() > 1) n = sanitize(g.account + "-" + n);
      std::string candidate = n;
      for (int i = 2; taken.count(candidate) != 0U; ++i) candidate = n + "-" + std::to_string(i);
      taken.insert(candidate);
      g.name = candidate;
    }
  }

  // Principals a role trusts that no written share needs: kept (roles are adopted additively,
  // or removed if the role is already ours), and said.
  void unshared_principals() {
    for (const auto& [name, o] : obs_.accounts) {
      for (RoleKind kind : {RoleKind::kSnapshot, RoleKind::kImage}) {
        const ObservedRole& role = o.role(kind);
        if (role.presence != Presence::kPresent) continue;
        auto tp = parse_trust_policy(role.role.trust_policy);
        if (!tp) continue;
        const auto& used = used_[{name, kind}];
        const bool ours = role.managed_by == given_.settings.instance_name;
        for (const auto& p : principals_of(*tp)) {
          if (p.kind == PrincipalKind::kForeign || used.count(p) != 0U) continue;
          comment("account " + name + ": " + role_name(kind) + " trusts " + p.label() +
                  ", but no " + (kind == RoleKind::kImage ? "image" : "snapshot") +
                  " is shared with it: " +
                  (ours ? "the role is managed by this instance, so plan removes it unless a share "
                          "names it"
                        : "kept (the role is adopted additively), not written as a share"));
        }
      }
    }
  }

  void comment(std::string text) { comments_.push_back(std::move(text)); }

  std::string render(ImportResult& result) const {
    std::ostringstream out;
    std::set<std::string> regions;
    for (const auto& g : out_) regions.insert(g.region);
    out << "# Written by `sharekeeper import`: the sharing found in " << obs_.accounts.size()
        << " account(s). `sharekeeper plan --detailed-exitcode` on it exits 0 against the same\n"
        << "# cloud; commented lines are what was found but not written (adopting it would change "
           "the cloud).\n";
    out << render_accounts_and_settings(given_);
    std::vector<std::string> comments = comments_;
    std::sort(comments.begin(), comments.end());
    comments.erase(std::unique(comments.begin(), comments.end()), comments.end());
    out << (out_.empty() ? "shares: []\n" : "shares:\n");
    for (const auto& c : comments) out << "  # " << c << "\n";
    for (const auto& g : out_) {
      for (const auto& n : g.notes) out << "  # " << n << "\n";
      out << "  - name: " << g.name << "\n    account: " << g.account
          << "\n    region: " << g.region << "\n";
      if (!g.images.empty()) out << "    images: " << list(g.images) << "\n";
      if (!g.snapshots.empty()) out << "    snapshots: " << list(g.snapshots) << "\n";
      std::vector<std::string> accounts, folders;
      std::string rd;
      for (const auto& t : g.targets) {
        if (t.type == config::TargetType::kAccount) accounts.push_back(t.id);
        if (t.type == config::TargetType::kFolder) folders.push_back(t.id);
        if (t.type == config::TargetType::kResourceDirectory) rd = t.id;
      }
      out << "    to:\n";
      if (!accounts.empty()) out << "      accounts: " << list(accounts) << "\n";
      if (!rd.empty()) out << "      resourceDirectory: " << rd << "\n";
      if (!folders.empty()) out << "      folders: " << list(folders) << "\n";
    }
    result.shares = static_cast<int>(out_.size());
    result.pairs = pairs_;
    result.comments = static_cast<int>(comments.size());
    return out.str();
  }

  const config::DesiredState& given_;
  const Observation& obs_;
  std::vector<Group> out_;
  std::vector<std::string> comments_;
  std::map<std::pair<std::string, RoleKind>, std::set<Principal>> used_;
  int pairs_ = 0;
};

}  // namespace

std::string render_accounts_and_settings(const config::DesiredState& d) {
  std::ostringstream out;
  out << "apiVersion: sharekeeper/v1\n";
  const config::Settings& s = d.settings;
  const config::Settings def;
  std::ostringstream set;
  if (s.interval != def.interval) set << "  interval: " << duration(s.interval) << "\n";
  if (s.jitter != def.jitter) set << "  jitter: " << number(s.jitter) << "\n";
  if (s.prune != def.prune) set << "  prune: " << (s.prune ? "true" : "false") << "\n";
  if (s.max_revocations_per_cycle != def.max_revocations_per_cycle)
    set << "  maxRevocationsPerCycle: " << s.max_revocations_per_cycle << "\n";
  if (s.max_revoke_fraction != def.max_revoke_fraction)
    set << "  maxRevokeFraction: " << number(s.max_revoke_fraction) << "\n";
  if (s.allow_mass_revoke != def.allow_mass_revoke)
    set << "  allowMassRevoke: " << (s.allow_mass_revoke ? "true" : "false") << "\n";
  if (s.instance_name != def.instance_name) set << "  instanceName: " << s.instance_name << "\n";
  if (s.allow_service_key_shares != def.allow_service_key_shares)
    set << "  allowServiceKeyShares: " << (s.allow_service_key_shares ? "true" : "false") << "\n";
  if (s.manage_shares != def.manage_shares)
    set << "  manageShares: " << (s.manage_shares ? "true" : "false") << "\n";
  if (s.manage_disk_encrypt_role != def.manage_disk_encrypt_role)
    set << "  manageDiskEncryptRole: " << (s.manage_disk_encrypt_role ? "true" : "false") << "\n";
  if (!s.endpoints.empty()) {
    set << "  endpoints:\n";
    for (const auto& [product, url] : s.endpoints)
      set << "    " << product << ": " << q(url) << "\n";
  }
  if (s.coordination) {
    const config::EtcdSettings& e = s.coordination->etcd;
    set << "  coordination:\n    etcd:\n      endpoints: " << list(e.endpoints) << "\n";
    if (e.lease_ttl != config::EtcdSettings{}.lease_ttl)
      set << "      leaseTTL: " << duration(e.lease_ttl) << "\n";
    if (e.prefix != "/sharekeeper/" + s.instance_name)
      set << "      prefix: " << q(e.prefix) << "\n";
    const std::pair<const char*, const std::string*> files[] = {{"caFile", &e.ca_file},
                                                                {"certFile", &e.cert_file},
                                                                {"keyFile", &e.key_file},
                                                                {"username", &e.username},
                                                                {"passwordFile", &e.password_file}};
    for (const auto& [k, v] : files)
      if (!v->empty()) set << "      " << k << ": " << q(*v) << "\n";
  }
  if (!set.str().empty()) out << "settings:\n" << set.str();
  out << (d.accounts.empty() ? "accounts: []\n" : "accounts:\n");
  for (const auto& a : d.accounts) {
    out << "  - name: " << a.name << "\n";
    if (a.uid) out << "    uid: " << q(*a.uid) << "\n";
    const config::CredentialsSpec& c = a.credentials;
    out << "    credentials:\n      source: " << source_name(c.source) << "\n";
    const std::pair<const char*, const std::string*> fields[] = {
        {"accessKeyIdEnv", &c.access_key_id_env},
        {"accessKeySecretEnv", &c.access_key_secret_env},
        {"securityTokenEnv", &c.security_token_env},
        {"profile", &c.profile},
        {"roleName", &c.role_name},
        {"roleArn", &c.role_arn},
        {"oidcProviderArn", &c.oidc_provider_arn},
        {"oidcTokenFile", &c.oidc_token_file},
        {"externalId", &c.external_id}};
    for (const auto& [k, v] : fields)
      if (!v->empty()) out << "      " << k << ": " << q(*v) << "\n";
    if ((c.source == config::CredentialSource::kOidc ||
         c.source == config::CredentialSource::kAssumeRole) &&
        c.role_session_name != "sharekeeper")
      out << "      roleSessionName: " << q(c.role_session_name) << "\n";
    if (c.source == config::CredentialSource::kAssumeRole)
      out << "      from: " << q(c.from) << "\n";
    if (a.adopt == config::AdoptMode::kAuthoritative) out << "    adopt: authoritative\n";
    if (!a.protected_principals.empty())
      out << "    protectedPrincipals: " << list(a.protected_principals) << "\n";
  }
  return out.str();
}

support::Result<ImportResult, support::Failure> import_config(
    const config::DesiredState& given, const std::vector<std::string>& regions_in,
    const ClientFor& client_for) {
  if (given.accounts.empty()) return support::Failure{"the config has no accounts to import from"};
  const std::set<std::string> given_regions(regions_in.begin(), regions_in.end());
  for (const auto& r : given_regions)
    if (!config::format::is_region_id(r)) return support::Failure{"'" + r + "' is not a region id"};

  // 1. The candidates: every own image, and what the account's resource shares hold, in the
  // regions given, else in every region the account uses (regions_used).
  std::map<std::string, std::map<std::string, Found>> found;
  for (const auto& a : given.accounts) {
    cloud::CloudApi* api = client_for ? client_for(a) : nullptr;
    if (api == nullptr) return support::Failure{"no cloud client for account '" + a.name + "'"};
    if (!given_regions.empty()) {
      for (const auto& r : given_regions) {
        auto f = find_resources(*api, a.name, r);
        if (!f) return std::move(f).error();
        found[a.name][r] = std::move(*f);
      }
      continue;
    }
    auto used = regions_used(*api, given, a);
    if (!used) return std::move(used).error();
    for (auto& [r, f] : *used) found[a.name][r] = std::move(f);
  }
  // 2. observe() reads them with their disks, keys and whom they are shared with: one probe share
  // per account and region naming them (its target only makes observe() read the images' share
  // permissions).
  config::DesiredState probe;
  probe.settings = given.settings;
  probe.accounts = given.accounts;
  probe.revision = given.revision;
  int n = 0;
  for (const auto& [account, by_region] : found) {
    const config::Account* acc = given.find_account(account);
    for (const auto& [region, f] : by_region) {
      if (f.images.empty() && f.snapshots.empty()) continue;
      config::Share s;
      s.name = "import-" + std::to_string(1000 + n++);
      s.account = account;
      s.region = region;
      s.images.assign(f.images.begin(), f.images.end());
      s.snapshots.assign(f.snapshots.begin(), f.snapshots.end());
      s.to.accounts = {acc->uid.value_or("0000000000000000")};
      probe.shares.push_back(std::move(s));
    }
  }
  const Observation obs = observe(probe, client_for);
  for (const auto& [name, o] : obs.accounts) {
    if (o.fatal_error) return support::Failure{"account " + name + ": " + *o.fatal_error};
    if (o.partial || !o.share_errors.empty()) {
      const auto& e = o.partial ? o.errors.front() : o.share_errors.front();
      return support::Failure{
          "account " + name +
          ": the observation is incomplete (an import would drop shares): " + e.to_string()};
    }
  }
  return Importer(given, obs).run(found);
}

}  // namespace sharekeeper::reconcilers
