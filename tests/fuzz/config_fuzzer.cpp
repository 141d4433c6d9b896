// libFuzzer target over the config loader: arbitrary bytes as config files. The input is split into
// several files at "\n#--file--\n" so directory merging is fuzzed too. Checks the loader's promises
// beyond "no crash": a valid result has sorted, unique, well-formed lists, every diagnostic has a
// position inside the input and formats as one line, and (issue 11) a config that validates never
// yields a grant whose account is unknown: every share's account and every assumeRole `from`
// resolve, and reconcilers::plan() over an empty observation plans no grant of an unknown account.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "config/formats.hpp"
#include "config/loader.hpp"
#include "reconcilers/observe.hpp"
#include "reconcilers/plan.hpp"

namespace {

using namespace sharekeeper::config;

void check(bool ok) {
  if (!ok) std::abort();
}

template <typename F>
void check_sorted_unique(const std::vector<std::string>& v, F valid) {
  for (std::size_t i = 0; i < v.size(); ++i) {
    check(valid(v[i]));
    if (i > 0) check(v[i - 1] < v[i]);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<Source> sources;
  constexpr std::string_view kSplit = "\n#--file--\n";
  for (std::size_t start = 0, n = 0;; ++n) {
    auto at = input.find(kSplit, start);
    std::string name = "f" + std::to_string(n) + ".yaml";
    if (at == std::string_view::npos || n == 7) {
      sources.push_back({name, std::string(input.substr(start))});
      break;
    }
    sources.push_back({name, std::string(input.substr(start, at - start))});
    start = at + kSplit.size();
  }

  LoadResult r = load_sources(sources);
  check(r.ok() == (r.error_count() == 0));
  for (const auto& d : r.diagnostics) {
    check(d.where.line >= 0 && d.where.column >= 0);
    check(static_cast<std::size_t>(d.where.line) <= size + 1);
    const std::string line = format_diagnostic(d);
    check(!line.empty());
    check(line.find('\n') == std::string::npos && line.find('\r') == std::string::npos);
  }
  check(!diagnostics_to_json(r.diagnostics).empty());
  if (r.ok()) {
    const DesiredState& st = *r.state;
    check(st.content_hash.size() == 64);
    for (std::size_t i = 1; i < st.shares.size(); ++i)
      check(st.shares[i - 1].name < st.shares[i].name);
    for (std::size_t i = 1; i < st.accounts.size(); ++i)
      check(st.accounts[i - 1].name < st.accounts[i].name);
    for (const auto& s : st.shares) {
      check(format::is_name(s.name));
      check(st.find_account(s.account) != nullptr);
      check(format::is_region_id(s.region));
      check_sorted_unique(s.images, format::is_image_id);
      check_sorted_unique(s.snapshots, format::is_snapshot_id);
      check_sorted_unique(s.to.accounts, format::is_account_uid);
      check_sorted_unique(s.to.folders, format::is_folder_path);
      check(!s.images.empty() || !s.snapshots.empty() || !s.selector_tags.empty());
      check(!s.to.accounts.empty() || !s.to.folders.empty() || s.to.resource_directory.has_value());
      check(s.to.accounts.size() <= 64);
    }
    for (const auto& a : st.accounts) {
      check(format::is_name(a.name));
      const auto& c = a.credentials;
      if (c.source == CredentialSource::kAssumeRole)
        check(c.from == "default" || (c.from != a.name && st.find_account(c.from) != nullptr));
    }
    // The planner is what turned `account: ""` into "Failed (unknown account '')" and a removal
    // of the share's principals: with nothing observed, every grant it plans must still belong to
    // a configured account.
    const auto plan = sharekeeper::reconcilers::plan(st, sharekeeper::reconcilers::Observation{});
    for (const auto& g : plan.grants) check(st.find_account(g.account) != nullptr);
  }
  return 0;
}
