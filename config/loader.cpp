#include "config/loader.hpp"

#include <openssl/evp.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <system_error>
#include <unordered_map>

#include "config/file_read.hpp"
#include "config/formats.hpp"
#include "config/git_revision.hpp"
#include "config/schema.hpp"
#include "config/yaml_tree.hpp"
#include "support/parallel.hpp"

namespace sharekeeper::config {
namespace {

namespace fs = std::filesystem;
using detail::Item;
using detail::make_diagnostic;
using detail::ParsedAccount;
using detail::ParsedFile;
using detail::ParsedShare;
using detail::Pos;

constexpr std::size_t kParallelBytes = std::size_t{256} * 1024;

std::string at(const std::string& file, Pos p) {
  return p.line > 0 ? file + ":" + std::to_string(p.line) + ":" + std::to_string(p.column) : file;
}

// Cross-file and semantic checks over the merged entries.
class Merger {
 public:
  explicit Merger(std::vector<Diagnostic>& diags) : diags_(diags) {}

  void error(const std::string& file, Pos p, std::string message, std::string hint = "") {
    diags_.push_back(make_diagnostic(Severity::kError, file, p.line, p.column, std::move(message),
                                     std::move(hint)));
  }
  void warning(const std::string& file, Pos p, std::string message, std::string hint = "") {
    diags_.push_back(make_diagnostic(Severity::kWarning, file, p.line, p.column, std::move(message),
                                     std::move(hint)));
  }

  DesiredState merge(std::vector<ParsedFile>& files) {
    DesiredState st;
    const ParsedFile* settings_from = nullptr;
    for (auto& f : files) {
      if (f.settings) {
        if (settings_from) {
          error(f.file, f.settings_pos, "`settings` is defined twice",
                "first defined at " + at(settings_from->file, settings_from->settings_pos));
        } else {
          settings_from = &f;
          st.settings = *f.settings;
        }
      }
      for (auto& a : f.accounts) {
        auto [it, inserted] = accounts_.emplace(a.account.name, &a);
        if (inserted) account_order_.push_back(&a);
        if (!inserted)
          error(a.account.where.file, a.name_pos,
                "account `" + a.account.name + "` is defined twice",
                "first defined at " + at(it->second->account.where.file, it->second->name_pos));
      }
      for (auto& s : f.shares) {
        auto [it, inserted] = shares_.emplace(s.share.name, &s);
        if (!inserted)
          error(s.share.where.file, s.name_pos, "share `" + s.share.name + "` is defined twice",
                "first defined at " + at(it->second->share.where.file, it->second->name_pos));
        else
          share_order_.push_back(&s);
      }
    }
    check_accounts();
    for (ParsedShare* s : share_order_) check_share(*s);
    check_resources();

    std::size_t grants = 0;
    for (ParsedShare* s : share_order_)
      grants +=
          s->to_accounts.size() + s->folders.size() + (s->share.to.resource_directory ? 1 : 0);
    if (grants > kMaxGrants)
      error(files.empty() ? std::string() : files.front().file, {},
            "the config has " + std::to_string(grants) + " grants; at most " +
                std::to_string(kMaxGrants) + " are supported");
    bool any_error = std::any_of(diags_.begin(), diags_.end(), [](const Diagnostic& d) {
      return d.severity == Severity::kError;
    });
    if (share_order_.empty() && !files.empty() && !any_error)
      warning(files.front().file, {}, "the config has no shares",
              "with `prune: true` sharekeeper would revoke every grant it manages (guarded by "
              "allowMassRevoke)");

    for (auto& [name, a] : accounts_) {
      Account acc = a->account;
      auto& pp = acc.protected_principals;
      std::sort(pp.begin(), pp.end());
      pp.erase(std::unique(pp.begin(), pp.end()), pp.end());
      st.accounts.push_back(std::move(acc));
    }
    st.shares.reserve(shares_.size());
    for (auto& [name, s] : shares_) st.shares.push_back(finish(*s));
    return st;
  }

 private:
  static std::vector<std::string> sorted_unique(const std::vector<Item>& items) {
    std::vector<std::string> v;
    v.reserve(items.size());
    for (const auto& i : items) v.push_back(i.value);
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return v;
  }

  static std::vector<std::string> sorted_unique(std::vector<Item>&& items) {
    std::vector<std::string> v;
    v.reserve(items.size());
    for (auto& i : items) v.push_back(std::move(i.value));
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return v;
  }

  // Moves out of `ps`: called once per share, after every check.
  static Share finish(ParsedShare& ps) {
    Share s = std::move(ps.share);
    s.images = sorted_unique(std::move(ps.images));
    s.snapshots = sorted_unique(std::move(ps.snapshots));
    s.to.accounts = sorted_unique(std::move(ps.to_accounts));
    s.to.folders = sorted_unique(std::move(ps.folders));
    return s;
  }

  void check_accounts() {
    std::map<std::string, const ParsedAccount*> by_uid;
    for (const ParsedAccount* a : account_order_) {  // file order: "first" means first in the files
      const std::string& name = a->account.name;
      if (a->account.uid) {
        auto [it, inserted] = by_uid.emplace(*a->account.uid, a);
        if (!inserted)
          error(a->account.where.file, a->uid_pos,
                "accounts `" + it->second->account.name + "` and `" + name + "` have the same uid",
                "first at " + at(it->second->account.where.file, it->second->uid_pos));
      }
      const auto& c = a->account.credentials;
      if (c.source != CredentialSource::kAssumeRole || c.from == "default") continue;
      if (c.from == name) {
        error(a->account.where.file, a->from_pos,
              "account `" + name + "` assumes its role from itself",
              "use `from: default` or another account");
      } else if (!accounts_.count(c.from)) {
        error(a->account.where.file, a->from_pos, "`from`: unknown account `" + c.from + "`",
              account_hint(c.from, true));
      }
    }
    // assumeRole chains must end in a non-assumeRole source: report each loop once, at each member.
    std::set<std::string> reported;
    for (auto& [name, a] : accounts_) {
      std::vector<std::string> chain{name};
      std::string cur = name;
      while (true) {
        auto it = accounts_.find(cur);
        if (it == accounts_.end()) break;
        const auto& c = it->second->account.credentials;
        if (c.source != CredentialSource::kAssumeRole || c.from == "default" || c.from == cur)
          break;
        auto loop = std::find(chain.begin(), chain.end(), c.from);
        if (loop != chain.end()) {
          if (loop == chain.begin() && !reported.count(name)) {
            std::string path;
            for (auto& n : chain) path += n + " -> ";
            path += c.from;
            for (auto& n : chain) {
              reported.insert(n);
              const ParsedAccount* member = accounts_.at(n);
              error(member->account.where.file, member->from_pos,
                    "assumeRole credentials loop: " + path,
                    "one account in the chain must use another source");
            }
          }
          break;
        }
        chain.push_back(c.from);
        cur = c.from;
      }
    }
  }

  std::string account_hint(const std::string& name, bool with_default) {
    std::vector<std::string_view> names;
    for (auto& [n, a] : accounts_) names.push_back(n);
    if (with_default) names.emplace_back("default");
    if (auto c = format::closest(name, names)) return "did you mean `" + std::string(*c) + "`?";
    return with_default ? "name an account under `accounts`, or `default`"
                        : "define it under `accounts`";
  }

  template <typename F>
  void duplicates_within(const ParsedShare& s, const std::vector<Item>& items, F what) {
    if (items.size() < 2) return;
    auto report = [&](const Item& dup, const Item& first) {
      warning(s.share.where.file, dup.pos,
              what(dup.value) + " is listed twice in share `" + s.share.name + "`",
              "first at line " + std::to_string(first.pos.line));
    };
    if (items.size() <= 16) {  // the usual size: a scan allocates nothing
      for (std::size_t i = 1; i < items.size(); ++i)
        for (std::size_t j = 0; j < i; ++j)
          if (items[j].value == items[i].value) {
            report(items[i], items[j]);
            break;
          }
      return;
    }
    std::unordered_map<std::string_view, const Item*> seen;
    for (const auto& i : items) {
      auto [it, inserted] = seen.emplace(i.value, &i);
      if (!inserted) report(i, *it->second);
    }
  }

  void check_share(ParsedShare& s) {
    const std::string& file = s.share.where.file;
    const ParsedAccount* owner = nullptr;
    if (!s.account_reported) {
      auto it = accounts_.find(s.share.account);
      if (it == accounts_.end())
        error(file, s.account_pos,
              "share `" + s.share.name + "`: unknown account `" + s.share.account + "`",
              account_hint(s.share.account, false));
      else
        owner = it->second;
    }
    if (s.images.empty() && s.snapshots.empty() && s.share.selector_tags.empty() &&
        !s.resource_errors)
      error(file, s.name_pos, "share `" + s.share.name + "` selects no resources",
            "list `images` or `snapshots`, or add a `selector`");
    if (s.to_accounts.empty() && s.folders.empty() && !s.share.to.resource_directory &&
        !s.target_errors && s.has_to)
      error(file, s.to_pos, "share `" + s.share.name + "` has no targets",
            "list `accounts`, a `resourceDirectory` or `folders` under `to`");

    duplicates_within(s, s.images, [](const std::string& v) { return "image `" + v + "`"; });
    duplicates_within(s, s.snapshots, [](const std::string& v) { return "snapshot `" + v + "`"; });
    duplicates_within(s, s.to_accounts, [](const std::string& v) { return "account `" + v + "`"; });
    duplicates_within(s, s.folders, [](const std::string& v) { return "folder `" + v + "`"; });

    if (owner && owner->account.uid)
      for (const auto& t : s.to_accounts)
        if (t.value == *owner->account.uid)
          error(file, t.pos,
                "share `" + s.share.name + "` shares with its own account `" + owner->account.name +
                    "` (" + t.value + ")",
                "an account cannot share with itself (InvalidAccount.Forbbiden)");

    // One share targets one resource directory: the one its folders live in.
    const auto& rd = s.share.to.resource_directory;
    for (const auto& f : s.folders) {
      auto frd = format::folder_path_rd(f.value);
      if (rd && frd != *rd) {
        error(file, f.pos, "folder `" + f.value + "` is not in resource directory `" + *rd + "`",
              "`resourceDirectory` is at line " + std::to_string(s.resource_directory_pos.line));
      } else if (rd) {
        warning(file, f.pos,
                "folder `" + f.value + "` is already covered by `resourceDirectory: " + *rd + "`");
      } else if (frd != format::folder_path_rd(s.folders.front().value)) {
        error(file, f.pos, "folders of one share must be in one resource directory",
              "`" + s.folders.front().value + "` is in another");
      }
    }
    for (const auto& a : s.folders)
      for (const auto& b : s.folders)
        if (b.value.size() > a.value.size() && b.value.starts_with(a.value) &&
            b.value[a.value.size()] == '/')
          warning(file, b.pos,
                  "folder `" + b.value + "` is inside `" + a.value + "`, which is already shared");

    // Fan-out of explicit resources is checked across shares; a selector may match images, whose
    // limit is lower, so the share's own account count must fit.
    std::size_t unique_accounts = sorted_unique(s.to_accounts).size();
    if (!s.share.selector_tags.empty()) {
      if (unique_accounts > kMaxSnapshotAccounts)
        error(file, s.to_pos,
              "share `" + s.share.name + "` targets " + std::to_string(unique_accounts) +
                  " accounts; a snapshot can be shared with at most " +
                  std::to_string(kMaxSnapshotAccounts),
              "split the targets or use a resource directory or folder");
      else if (unique_accounts > kMaxImageAccounts)
        warning(file, s.to_pos,
                "share `" + s.share.name + "` targets " + std::to_string(unique_accounts) +
                    " accounts; images its selector matches can be shared with at most " +
                    std::to_string(kMaxImageAccounts));
    }
  }

  struct Use {
    ParsedShare* share;
    const Item* item;
  };

  void check_resources() {
    // Sorted (id, use) pairs instead of a map of vectors: one allocation for 20,000 resources.
    std::vector<std::pair<std::string_view, Use>> uses;
    for (ParsedShare* s : share_order_) {
      for (const auto& i : s->images) uses.push_back({i.value, {s, &i}});
      for (const auto& i : s->snapshots) uses.push_back({i.value, {s, &i}});
    }
    std::stable_sort(uses.begin(), uses.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<Use> group;
    for (std::size_t begin = 0, end = 0; begin < uses.size(); begin = end) {
      std::string_view id = uses[begin].first;
      for (end = begin; end < uses.size() && uses[end].first == id; ++end) {
      }
      bool image = id.starts_with("m-");
      std::size_t limit = image ? kMaxImageAccounts : kMaxSnapshotAccounts;
      if (end - begin == 1) {  // the common case: fan-out is the share's own account count
        const Use& u = uses[begin].second;
        if (u.share->to_accounts.size() > limit) check_resource(id, {u});
        continue;
      }
      group.clear();
      for (std::size_t i = begin; i < end; ++i) group.push_back(uses[i].second);
      check_resource(id, group);
    }
  }

  void check_resource(std::string_view id, const std::vector<Use>& uses) {
    bool image = id.starts_with("m-");
    std::size_t limit = image ? kMaxImageAccounts : kMaxSnapshotAccounts;
    const Use& first = uses.front();
    std::set<std::string_view> accounts;
    std::map<std::string, Use> targets;  // target -> first share that grants it
    std::set<const ParsedShare*> seen_shares;
    bool over = false;
    for (const Use& u : uses) {
      const Share& sh = u.share->share;
      const std::string& file = sh.where.file;
      if (!seen_shares.insert(u.share).second)
        continue;  // listed twice in one share: a warning already
      if (u.share != first.share &&
          (sh.account != first.share->share.account || sh.region != first.share->share.region)) {
        error(file, u.item->pos,
              "`" + std::string(id) + "` is listed by share `" + first.share->share.name +
                  "` under account `" + first.share->share.account + "` in " +
                  first.share->share.region + ", and here under `" + sh.account + "` in " +
                  sh.region,
              "a resource has one owner and one region");
        continue;
      }
      auto dup_target = [&](const std::string& key, const std::string& shown) {
        auto [it, inserted] = targets.emplace(key, u);
        if (inserted || it->second.share == u.share) return false;
        error(file, u.item->pos,
              "`" + std::string(id) + "` is shared with " + shown + " by both share `" +
                  it->second.share->share.name + "` and share `" + sh.name + "`",
              "first at " + at(it->second.share->share.where.file, it->second.item->pos) +
                  "; keep each grant in one share");
        return true;
      };
      bool dup = false;
      for (const auto& t : u.share->to_accounts) {
        accounts.insert(t.value);
        if (!dup) dup = dup_target("a:" + t.value, "account " + t.value);
      }
      if (!dup && sh.to.resource_directory)
        dup = dup_target("r:" + *sh.to.resource_directory,
                         "resource directory " + *sh.to.resource_directory);
      for (const auto& f : u.share->folders)
        if (!dup) dup = dup_target("f:" + f.value, "folder " + f.value);
      if (!over && accounts.size() > limit) {
        over = true;
        error(file, u.item->pos,
              std::string(image ? "image" : "snapshot") + " `" + std::string(id) +
                  "` would be shared with " + std::to_string(accounts.size()) +
                  " accounts; the limit is " + std::to_string(limit),
              "share with a resource directory or folder instead");
      }
    }
  }

  static constexpr std::size_t kMaxImageAccounts = 50;     // ECS: accounts per image
  static constexpr std::size_t kMaxSnapshotAccounts = 64;  // ECS: accounts per snapshot

  std::vector<Diagnostic>& diags_;
  std::map<std::string, ParsedAccount*> accounts_;
  std::map<std::string, ParsedShare*> shares_;
  std::vector<ParsedShare*> share_order_;
  std::vector<const ParsedAccount*> account_order_;
};

std::string hex(const unsigned char* p, std::size_t n) {
  static const char* const kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[p[i] >> 4]);
    out.push_back(kDigits[p[i] & 15]);
  }
  return out;
}

void sort_diagnostics(std::vector<Diagnostic>& diags, const std::vector<Source>& sources) {
  std::unordered_map<std::string, std::size_t> order;
  for (std::size_t i = 0; i < sources.size(); ++i) order.emplace(sources[i].name, i + 1);
  auto rank = [&](const std::string& f) {
    auto it = order.find(f);
    return it == order.end() ? 0 : it->second;
  };
  std::stable_sort(diags.begin(), diags.end(), [&](const Diagnostic& a, const Diagnostic& b) {
    return std::tuple(rank(a.where.file), a.where.file, a.where.line, a.where.column) <
           std::tuple(rank(b.where.file), b.where.file, b.where.line, b.where.column);
  });
}

}  // namespace

std::size_t LoadResult::error_count() const {
  return static_cast<std::size_t>(
      std::count_if(diagnostics.begin(), diagnostics.end(),
                    [](const Diagnostic& d) { return d.severity == Severity::kError; }));
}

std::size_t LoadResult::warning_count() const { return diagnostics.size() - error_count(); }

std::string content_hash(const std::vector<Source>& sources) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  for (const auto& s : sources) {
    // The file name without its directory, so the same files hash the same wherever they are
    // checked out.
    std::string header = fs::path(s.name).filename().string();
    header.push_back('\0');
    header += std::to_string(s.content.size());
    header.push_back('\0');
    EVP_DigestUpdate(ctx, header.data(), header.size());
    EVP_DigestUpdate(ctx, s.content.data(), s.content.size());
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, md, &len);
  EVP_MD_CTX_free(ctx);
  return hex(md, len);
}

ReadResult read_sources(const fs::path& path) {
  ReadResult r;
  std::error_code ec;
  auto add_error = [&](const std::string& file, std::string msg, std::string hint = "") {
    r.diagnostics.push_back(
        make_diagnostic(Severity::kError, file, 0, 0, std::move(msg), std::move(hint)));
  };
  // stat() rather than fs::exists(): a symlink loop given as `-c` is a loop, not "no such file".
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    add_error(path.string(), detail::describe_stat_error(path, errno));
    return r;
  }
  std::vector<fs::path> files;
  if (S_ISDIR(st.st_mode)) {
    for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
      auto name = it->path().filename().string();
      if (name.empty() || name[0] == '.') continue;
      // Decided by name alone: every *.yaml entry is read, and one that is not a readable regular
      // file (dangling or looping symlink, FIFO, device, directory) fails the whole load below,
      // naming it. Skipping it silently dropped that file's shares, which the daemon then revoked.
      if (it->path().extension() == ".yaml") {
        files.push_back(it->path());
      } else if (it->path().extension() == ".yml") {
        r.diagnostics.push_back(make_diagnostic(Severity::kWarning, it->path().string(), 0, 0,
                                                "ignored: only *.yaml files are read",
                                                "rename it to *.yaml"));
      }
    }
    if (ec) {
      add_error(path.string(), "cannot read directory: " + ec.message());
      return r;
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) {
      add_error(path.string(), "no *.yaml files in the directory");
      return r;
    }
    if (files.size() > kMaxFiles) {
      add_error(path.string(),
                "more than " + std::to_string(kMaxFiles) + " *.yaml files in the directory");
      return r;
    }
  } else {
    files.push_back(path);
  }
  for (const auto& f : files) {
    auto read = detail::read_regular_file(f, kMaxFileBytes);
    if (!read) {
      std::string hint = read.error().hint;
      if (hint.empty())
        hint = files.size() > 1 || S_ISDIR(st.st_mode)
                   ? "every *.yaml entry of the directory must be a readable file; the daemon "
                     "keeps its last good config until it is"
                   : "";
      add_error(f.string(), "cannot read: " + read.error().message, std::move(hint));
      continue;
    }
    r.sources.push_back({f.string(), std::move(read).value()});
  }
  return r;
}

LoadResult load_sources(const std::vector<Source>& sources, std::string revision) {
  LoadResult r;
  // Files are independent until the merge, and yaml-cpp (~5 MB/s) dominates a large config's load
  // time, so big configs parse their files on several threads.
  struct PerFile {
    std::optional<ParsedFile> file;
    std::vector<Diagnostic> diagnostics;
  };
  std::vector<PerFile> work(sources.size());
  auto process = [&](std::size_t i) {
    try {
      auto parsed = detail::parse_yaml(sources[i].name, sources[i].content);
      work[i].diagnostics = std::move(parsed.diagnostics);
      if (parsed.has_root)
        work[i].file = detail::check_file(sources[i].name, parsed.root, work[i].diagnostics);
    } catch (const std::exception& e) {
      work[i].diagnostics.push_back(make_diagnostic(Severity::kError, sources[i].name, 0, 0,
                                                    std::string("cannot load: ") + e.what(), ""));
    }
  };
  std::size_t total_bytes = 0;
  for (const auto& s : sources) total_bytes += s.content.size();
  // Small configs stay on this thread: starting threads costs more than it saves.
  const std::size_t workers = total_bytes < kParallelBytes ? 1 : support::cpu_workers(8);
  support::parallel_for(sources.size(), workers, process);
  std::vector<ParsedFile> files;
  files.reserve(sources.size());
  for (auto& w : work) {
    r.diagnostics.insert(r.diagnostics.end(), std::make_move_iterator(w.diagnostics.begin()),
                         std::make_move_iterator(w.diagnostics.end()));
    if (w.file) files.push_back(std::move(*w.file));
  }
  DesiredState st = Merger(r.diagnostics).merge(files);
  sort_diagnostics(r.diagnostics, sources);
  if (sources.empty())
    r.diagnostics.push_back(make_diagnostic(Severity::kError, "", 0, 0, "no config files", ""));
  if (r.error_count() == 0) {
    st.content_hash = content_hash(sources);
    st.revision = revision.empty() ? st.content_hash : std::move(revision);
    r.state = std::move(st);
  }
  return r;
}

LoadResult load_sources(const std::vector<Source>& sources) { return load_sources(sources, ""); }

LoadResult load(const fs::path& path) {
  auto read = read_sources(path);
  bool read_errors =
      std::any_of(read.diagnostics.begin(), read.diagnostics.end(),
                  [](const Diagnostic& d) { return d.severity == Severity::kError; });
  if (read_errors) {
    LoadResult r;
    r.diagnostics = std::move(read.diagnostics);
    return r;
  }
  auto r = load_sources(read.sources, git_head_revision(path).value_or(""));
  r.diagnostics.insert(r.diagnostics.begin(), read.diagnostics.begin(), read.diagnostics.end());
  return r;
}

std::size_t grant_count(const DesiredState& state) {
  std::size_t n = 0;
  for (const auto& s : state.shares)
    n += s.to.accounts.size() + s.to.folders.size() + (s.to.resource_directory ? 1 : 0);
  return n;
}

std::string escape_for_text(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  auto hex_byte = [&](unsigned char c) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\x%02x", c);
    out += buf;
  };
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c == '\n') {
        out += "\\n";
      } else if (c == '\t') {
        out += "\\t";
      } else if (c == '\r') {
        out += "\\r";
      } else if (c < 0x20 || c == 0x7F) {
        hex_byte(c);
      } else {
        out.push_back(static_cast<char>(c));
      }
      ++i;
      continue;
    }
    std::size_t len = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    std::uint32_t cp = len == 2 ? c & 0x1Fu : len == 3 ? c & 0x0Fu : c & 0x07u;
    bool valid = len != 0 && i + len <= s.size();
    for (std::size_t k = 1; valid && k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      valid = (cc & 0xC0) == 0x80;
      cp = (cp << 6) | (cc & 0x3Fu);
    }
    if (!valid) {  // a stray byte: shown, never passed to the terminal as part of a sequence
      hex_byte(c);
      ++i;
      continue;
    }
    // C1 controls, line/paragraph separators and bidirectional overrides reorder or break lines.
    const bool hidden = (cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 ||
                        cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) ||
                        (cp >= 0x2066 && cp <= 0x2069) || cp == 0xFEFF;
    if (hidden) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "\\u%04X", static_cast<unsigned>(cp));
      out += buf;
    } else {
      out.append(s.substr(i, len));
    }
    i += len;
  }
  return out;
}

std::string format_diagnostic(const Diagnostic& d) {
  // Messages quote the user's values and file names: escaped, so a value cannot forge a second
  // diagnostic line (`name: "x\nc.yaml:1:1: error: ..."`) or hide one from a terminal (issue 11).
  std::string out = d.where.file.empty() ? "sharekeeper" : escape_for_text(d.where.file);
  if (d.where.line > 0)
    out += ":" + std::to_string(d.where.line) + ":" + std::to_string(d.where.column);
  out += d.severity == Severity::kError ? ": error: " : ": warning: ";
  out += escape_for_text(d.message);
  if (!d.hint.empty()) out += " (" + escape_for_text(d.hint) + ")";
  return out;
}

std::vector<std::string> format_diagnostics(const std::vector<Diagnostic>& diagnostics,
                                            std::size_t limit) {
  std::vector<std::string> lines;
  if (diagnostics.size() <= limit) {
    lines.reserve(diagnostics.size());
    for (const auto& d : diagnostics) lines.push_back(format_diagnostic(d));
    return lines;
  }
  // Errors first when not everything fits (a warning never hides an error), shown in file order.
  std::vector<bool> shown(diagnostics.size(), false);
  std::size_t room = limit;
  for (Severity pass : {Severity::kError, Severity::kWarning})
    for (std::size_t i = 0; i < diagnostics.size() && room > 0; ++i)
      if (diagnostics[i].severity == pass) {
        shown[i] = true;
        --room;
      }
  std::size_t hidden_errors = 0, hidden_warnings = 0;
  for (std::size_t i = 0; i < diagnostics.size(); ++i) {
    if (shown[i])
      lines.push_back(format_diagnostic(diagnostics[i]));
    else
      ++(diagnostics[i].severity == Severity::kError ? hidden_errors : hidden_warnings);
  }
  lines.push_back("sharekeeper: " + std::to_string(hidden_errors + hidden_warnings) +
                  " more diagnostic(s) not shown (" + std::to_string(hidden_errors) +
                  " error(s), " + std::to_string(hidden_warnings) +
                  " warning(s)); `sharekeeper validate -o json` lists every one");
  return lines;
}

std::string diagnostics_to_json(const std::vector<Diagnostic>& diagnostics) {
  auto arr = nlohmann::json::array();
  for (const auto& d : diagnostics) {
    nlohmann::json j = {{"file", d.where.file},
                        {"line", d.where.line},
                        {"column", d.where.column},
                        {"severity", d.severity == Severity::kError ? "error" : "warning"},
                        {"message", d.message}};
    if (!d.hint.empty()) j["hint"] = d.hint;
    arr.push_back(std::move(j));
  }
  // Messages quote the user's text, which may be invalid UTF-8 only if validation failed earlier;
  // replace.
  return arr.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::vector<std::pair<std::string, std::vector<std::string>>> accepted_keys() {
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  for (const auto& [ctx, keys] : detail::schema_keys())
    out.emplace_back(ctx, std::vector<std::string>(keys.begin(), keys.end()));
  return out;
}

}  // namespace sharekeeper::config
