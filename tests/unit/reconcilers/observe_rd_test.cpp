// Resource Directory membership (reconcilers/observe_rd.hpp) over FakeClouds: the management
// account is found through a sharer's GetResourceDirectory and lists the members once; paths lose
// their trailing account id; every way of not knowing (no member in the config, management account
// not in the config, a failed ListAccounts) leaves the directory unknown with its reason; nothing
// is read when no grant names a directory.
#include "reconcilers/observe_rd.hpp"

#include <gtest/gtest.h>

#include "tests/unit/reconcilers/support/fake_cloud.hpp"
#include "tests/unit/reconcilers/support/fixtures.hpp"

namespace sharekeeper::testing {
namespace {

using reconcilers::Membership;

constexpr const char* kManager = "9000000000000001";
constexpr const char* kA = "1111222233334444";

config::DesiredState rd_world(bool with_manager) {
  auto s = make_share("golden", {}, {"m-bp1aaaaaaaaaaaaaaaaa"}, {kA});
  s.to.resource_directory = "rd-abc123";
  std::vector<config::Account> accounts = {make_account()};
  if (with_manager) accounts.push_back(make_account("org", kManager));
  return make_desired({s}, accounts);
}

cloud::ResourceDirectoryInfo info() { return {"rd-abc123", "r-ab12cd", kManager, "org"}; }

cloud::DirectoryAccount member(const std::string& uid, const std::string& path) {
  cloud::DirectoryAccount a;
  a.account_id = uid;
  a.resource_directory_id = "rd-abc123";
  a.resource_directory_path = path;
  return a;
}

struct World {
  FakeCloud prod{kUid};
  FakeCloud org{kManager};
  reconcilers::ClientFor client_for() {
    return [this](const config::Account& a) -> cloud::CloudApi* {
      return a.name == "prod" ? static_cast<cloud::CloudApi*>(&prod) : &org;
    };
  }
};

TEST(ObserveRd, TheManagementAccountListsTheMembersOnce) {
  World w;
  w.prod.set_directory_membership(info());
  w.org.set_directory_membership(
      info(), {member(kManager, std::string("rd-abc123/r-ab12cd/") + kManager),
               member(kUid, std::string("rd-abc123/r-ab12cd/") + kUid),
               member(kA, std::string("rd-abc123/r-ab12cd/fd-abcdefghij/fd-klmnopqrst/") + kA)});
  const auto d = rd_world(true);
  auto dirs = reconcilers::observe_directories(d, reconcilers::directories_named(d), w.client_for(),
                                               nullptr);
  ASSERT_EQ(dirs.by_id.count("rd-abc123"), 1U);
  const auto& m = dirs.by_id.at("rd-abc123");
  EXPECT_TRUE(m.known) << m.why_unknown;
  EXPECT_EQ(m.reader, "org");
  std::string path;
  EXPECT_EQ(reconcilers::membership_of(&dirs, "rd-abc123", kA, &path), Membership::kMember);
  EXPECT_EQ(path, "rd-abc123/r-ab12cd/fd-abcdefghij/fd-klmnopqrst");
  EXPECT_EQ(reconcilers::membership_of(&dirs, "rd-abc123", "2222333344445555"),
            Membership::kNotMember);
  EXPECT_EQ(reconcilers::membership_of(&dirs, "rd-zzz999", kA), Membership::kUnknown);
  // The sharer (whose grant names the directory) is asked first and answers it: 1 + 1 calls.
  EXPECT_EQ(w.prod.calls("GetResourceDirectory"), 1);
  EXPECT_EQ(w.org.calls("GetResourceDirectory"), 0);
  EXPECT_EQ(w.org.calls("ListAccounts"), 1);
  EXPECT_EQ(w.prod.calls("ListAccounts"), 0);
  EXPECT_EQ(dirs.calls, 2);
}

TEST(ObserveRd, WithoutTheManagementAccountTheDirectoryIsUnknown) {
  World w;
  w.prod.set_directory_membership(info());
  const auto d = rd_world(false);
  auto dirs = reconcilers::observe_directories(d, reconcilers::directories_named(d), w.client_for(),
                                               nullptr);
  const auto& m = dirs.by_id.at("rd-abc123");
  EXPECT_FALSE(m.known);
  EXPECT_NE(m.why_unknown.find(std::string("management account ") + kManager), std::string::npos)
      << m.why_unknown;
  EXPECT_EQ(reconcilers::membership_of(&dirs, "rd-abc123", kA), Membership::kUnknown);
  EXPECT_TRUE(dirs.errors.empty());
}

TEST(ObserveRd, NoAccountInTheDirectoryOrAFailedListingIsUnknown) {
  World w;  // prod is in no directory
  const auto d = rd_world(true);
  auto none = reconcilers::observe_directories(d, reconcilers::directories_named(d), w.client_for(),
                                               nullptr);
  EXPECT_FALSE(none.by_id.at("rd-abc123").known);
  EXPECT_NE(none.by_id.at("rd-abc123").why_unknown.find("no account of the config"),
            std::string::npos);

  World f;
  f.prod.set_directory_membership(info());
  f.org.set_directory_membership(info(), {member(kA, "rd-abc123/r-ab12cd/" + std::string(kA))});
  f.org.inject({"ListAccounts", "NoPermission", cloud::ErrorClass::kTerminal});
  auto failed = reconcilers::observe_directories(d, reconcilers::directories_named(d),
                                                 f.client_for(), nullptr);
  EXPECT_FALSE(failed.by_id.at("rd-abc123").known);
  EXPECT_EQ(failed.errors.size(), 1U);
  EXPECT_EQ(reconcilers::membership_of(&failed, "rd-abc123", kA), Membership::kUnknown);
}

TEST(ObserveRd, NothingIsReadWhenNoGrantNamesADirectory) {
  World w;
  w.prod.set_directory_membership(info());
  const auto d = make_desired({make_share("golden", {}, {"m-bp1aaaaaaaaaaaaaaaaa"}, {kA})});
  EXPECT_TRUE(reconcilers::directories_named(d).empty());
  auto obs = observe_all(d, {{"prod", &w.prod}});
  EXPECT_EQ(obs.accounts.at("prod").directories, nullptr);
  EXPECT_EQ(w.prod.calls("GetResourceDirectory"), 0);
}

}  // namespace
}  // namespace sharekeeper::testing
