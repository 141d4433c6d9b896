// FakeCloud's share semantics, the ones the share planner's tests rely on: they must match the
// emulator's (docs/emulator-seed.md "The cloud model"), so a planner that is right against the fake
// is right against the emulator. Image sharing: the 10-per-request cut, the 50 cap,
// AssumeRoleError. Resource Sharing: 5 per call, RD and external targets, asynchronous states the
// test settles, invitations, conflicts, faults.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "tests/unit/reconcilers/support/fake_cloud.hpp"

namespace sharekeeper::testing {
namespace {

constexpr const char* kOwner = "1234567890123456";
constexpr const char* kRegion = "cn-hangzhou";
constexpr const char* kImageRole = "AliyunECSShareEncryptImageDefaultRole";
constexpr const char* kMember = "2000000000000002";
constexpr const char* kOutsider = "4000000000000004";

std::string uid(int i) {
  std::string n = std::to_string(i);
  return "30000000000000" + std::string(2 - n.size(), '0') + n;
}

std::vector<std::string> uids(int from, int count) {
  std::vector<std::string> out;
  for (int i = from; i < from + count; ++i) out.push_back(uid(i));
  return out;
}

std::string trust_for(const std::vector<std::string>& accounts) {
  nlohmann::json services = nlohmann::json::array();
  for (const auto& a : accounts) services.push_back(a + "@ecs.aliyuncs.com");
  return nlohmann::json{{"Version", "1"},
                        {"Statement",
                         {{{"Action", "sts:AssumeRole"},
                           {"Effect", "Allow"},
                           {"Principal", {{"Service", services}}}}}}}
      .dump();
}

class FakeShareTest : public ::testing::Test {
 protected:
  FakeShareTest() : cloud(kOwner) {
    cloud.add_key(kRegion, "cmk");
    cloud.add_key(kRegion, "off", "Disabled");
    cloud.add_key(kRegion, "svc", "Enabled", "Ecs", {"alias/acs/ecs"});
    cloud.add_snapshot(kRegion, "s-plain", "");
    cloud.add_snapshot(kRegion, "s-cmk", "cmk");
    cloud.add_snapshot(kRegion, "s-cmk2", "cmk");
    cloud.add_snapshot(kRegion, "s-off", "off");
    cloud.add_snapshot(kRegion, "s-svc", "svc");
    cloud.add_image(kRegion, "m-plain", {"s-plain"});
    cloud.add_image(kRegion, "m-cmk", {"s-cmk"});
    cloud.add_image(kRegion, "m-full", {"s-cmk", "s-cmk2"});
    cloud.add_image(kRegion, "m-off", {"s-off"});
    cloud.add_image(kRegion, "m-svc", {"s-svc"});
    cloud.set_resource_directory("rd-1", {"fd-a", "fd-b"}, {kOwner, kMember});
  }

  cloud::Result<void> share(const std::string& image, const std::vector<std::string>& add,
                            const std::vector<std::string>& remove = {}) {
    return cloud.modify_image_share_permission(kRegion, image, add, remove);
  }

  std::map<std::string, std::string> statuses(const std::string& share, const std::string& type) {
    std::map<std::string, std::string> out;
    auto l = cloud.list_resource_share_associations(kRegion, type, {share});
    EXPECT_TRUE(l.ok()) << l.error().to_string();
    if (l.ok())
      for (const auto& a : *l) out[a.entity_id] = a.association_status;
    return out;
  }

  FakeCloud cloud;
};

// ---- image sharing

TEST_F(FakeShareTest, OneCallAppliesOnlyTheFirstTenOfEachList) {
  ASSERT_TRUE(share("m-plain", uids(0, 12)).ok());
  EXPECT_EQ(cloud.image_shares("m-plain"), uids(0, 10)) << "the 11th and 12th are dropped";
  EXPECT_EQ(cloud.requests(), 1) << "one call is one request";
  ASSERT_TRUE(share("m-plain", {}, uids(0, 12)).ok());
  EXPECT_TRUE(cloud.image_shares("m-plain").empty());
  ASSERT_TRUE(share("m-plain", uids(0, 10)).ok());
  ASSERT_TRUE(share("m-plain", uids(10, 2)).ok());
  EXPECT_EQ(cloud.image_shares("m-plain").size(), 12U);
  auto listed = cloud.describe_image_share_permission(kRegion, "m-plain");
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(*listed, uids(0, 12));
  EXPECT_EQ(cloud.journal().back(),
            "ModifyImageSharePermission m-plain +" + uid(10) + " +" + uid(11));
}

TEST_F(FakeShareTest, FiftyAccountsPerImageAndNothingPartial) {
  for (int i = 0; i < 50; i += 10) ASSERT_TRUE(share("m-plain", uids(i, 10)).ok());
  auto over = share("m-plain", {uid(50)});
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code, "QuotaExceed.ShareImageUser");
  EXPECT_EQ(over.error().cls, cloud::ErrorClass::kTerminal);
  EXPECT_EQ(cloud.image_shares("m-plain").size(), 50U);
  // Removing one while adding one stays at 50: the cap is on the result.
  EXPECT_TRUE(share("m-plain", {uid(50)}, {uid(0)}).ok());
  EXPECT_EQ(cloud.image_shares("m-plain").size(), 50U);
}

TEST_F(FakeShareTest, EncryptedImagesNeedTheTrustedRoleAndAUsableCmk) {
  auto no_role = share("m-cmk", {kMember});
  ASSERT_FALSE(no_role.ok());
  EXPECT_EQ(no_role.error().code, "AssumeRoleError");
  EXPECT_EQ(no_role.error().http_status, 403);
  cloud.add_role(kImageRole, trust_for({uid(1)}));
  EXPECT_EQ(share("m-cmk", {kMember}).error().code, "AssumeRoleError") << "another account";
  EXPECT_TRUE(share("m-plain", {kMember}).ok()) << "unencrypted: no role needed";
  ASSERT_TRUE(cloud.update_role_trust_policy(kImageRole, trust_for({uid(1), kMember})).ok());
  EXPECT_TRUE(share("m-cmk", {kMember}).ok());
  // Removing never needs the role.
  ASSERT_TRUE(cloud.update_role_trust_policy(kImageRole, trust_for({})).ok());
  EXPECT_TRUE(share("m-cmk", {}, {kMember}).ok());
  EXPECT_EQ(share("m-off", {kMember}).error().code, "InvalidParameter.KMSKeyId.CMKNotEnabled");
  EXPECT_EQ(share("m-svc", {kMember}).error().code,
            "InvalidOperation.ServiceKeyEncryptedImageUnsupported");
  EXPECT_EQ(share("m-plain", {kOwner}).error().code, "InvalidAccount.Forbbiden");
  cloud.set_image_status(kRegion, "m-plain", "Deprecated");
  EXPECT_EQ(share("m-plain", {uid(7)}).error().code, "OperationDenied.InvalidImageStatus");
  EXPECT_TRUE(share("m-plain", {}, {kMember}).ok()) << "removing is still possible";
  cloud.set_image_status(kRegion, "m-plain", "Available");
  EXPECT_EQ(share("m-plain", {"12"}).error().code, "InvalidAccount.NotFound");
  EXPECT_EQ(share("m-nope", {kMember}).error().code, "InvalidImageId.NotFound");
  EXPECT_EQ(cloud.describe_image_share_permission(kRegion, "m-nope").error().code,
            "InvalidImageId.NotFound");
}

TEST_F(FakeShareTest, TrustByRdConditionWildcardAndDeny) {
  nlohmann::json rd = {{"Version", "1"},
                       {"Statement",
                        {{{"Action", "sts:AssumeRole"},
                          {"Effect", "Allow"},
                          {"Principal", {{"Service", {"*@ecs.aliyuncs.com"}}}},
                          {"Condition", {{"StringEquals", {{"sts:ServiceOwnerRDId", "rd-1"}}}}}}}}};
  cloud.add_role(kImageRole, rd.dump());
  EXPECT_TRUE(share("m-cmk", {kMember}).ok()) << "an RD member";
  EXPECT_EQ(share("m-cmk", {kOutsider}).error().code, "AssumeRoleError") << "not a member";
  nlohmann::json deny = rd;
  deny["Statement"].push_back(
      {{"Action", "sts:AssumeRole"},
       {"Effect", "Deny"},
       {"Principal", {{"Service", {std::string(kMember) + "@ecs.aliyuncs.com"}}}}});
  ASSERT_TRUE(cloud.update_role_trust_policy(kImageRole, deny.dump()).ok());
  EXPECT_EQ(share("m-cmk", {}, {kMember}).ok(), true);
  EXPECT_EQ(share("m-cmk", {kMember}).error().code, "AssumeRoleError") << "an explicit Deny wins";
}

TEST_F(FakeShareTest, FullImagesAreRefusedOnlyWhenAsked) {
  cloud.add_role(kImageRole, trust_for({kMember}));
  EXPECT_TRUE(share("m-full", {kMember}).ok());
  cloud.refuse_encrypted_full_images(true);
  EXPECT_EQ(share("m-full", {uid(1)}).error().code, "OperationDeined.FullImage");
  EXPECT_TRUE(share("m-cmk", {}, {kMember}).ok());
}

TEST_F(FakeShareTest, ImageTagsAreWrittenAndRemoved) {
  ASSERT_TRUE(cloud
                  .tag_ecs_resources(kRegion, "image", {"m-plain", "m-cmk"},
                                     {{"sharekeeper:managed-by", "sk"}})
                  .ok());
  ASSERT_TRUE(
      cloud.tag_ecs_resources(kRegion, "image", {"m-plain"}, {{"sharekeeper:managed-by", "other"}})
          .ok());
  EXPECT_EQ(cloud.image_tags(kRegion, "m-plain"),
            (std::vector<cloud::Tag>{{"sharekeeper:managed-by", "other"}}))
      << "an existing key is overwritten";
  auto images = cloud.describe_images(kRegion, {}, {{"sharekeeper:managed-by", "sk"}});
  ASSERT_TRUE(images.ok());
  ASSERT_EQ(images->size(), 1U);
  EXPECT_EQ((*images)[0].image_id, "m-cmk");
  EXPECT_EQ(cloud.tag_ecs_resources(kRegion, "image", {"m-nope"}, {{"k", "v"}}).error().code,
            "InvalidResourceId.NotFound");
  EXPECT_EQ(cloud.tag_ecs_resources(kRegion, "instance", {"i-1"}, {{"k", "v"}}).error().code,
            "InvalidResourceType.NotFound");
  ASSERT_TRUE(
      cloud.untag_ecs_resources(kRegion, "image", {"m-plain"}, {"sharekeeper:managed-by", "absent"})
          .ok());
  EXPECT_TRUE(cloud.image_tags(kRegion, "m-plain").empty());
}

// ---- Resource Sharing

TEST_F(FakeShareTest, AssociationsWaitForTheTestToSettle) {
  auto created =
      cloud.create_resource_share(kRegion, "golden", {{"Snapshot", "s-cmk"}}, {kMember, "fd-a"},
                                  false, {{"sharekeeper:managed-by", "sk"}});
  ASSERT_TRUE(created.ok()) << created.error().to_string();
  const std::string id = created->resource_share_id;
  EXPECT_EQ(created->resource_share_status, "Active");
  EXPECT_EQ(statuses(id, "Resource")["s-cmk"], "Associating");
  EXPECT_EQ(statuses(id, "Target")["fd-a"], "Associating");
  cloud.settle_resource_sharing();
  EXPECT_EQ(statuses(id, "Resource")["s-cmk"], "Associated");
  EXPECT_EQ(statuses(id, "Target"),
            (std::map<std::string, std::string>{{kMember, "Associated"}, {"fd-a", "Associated"}}));
  auto targets = cloud.list_resource_share_associations(kRegion, "Target", {id});
  ASSERT_TRUE(targets.ok());
  for (const auto& t : *targets) {
    EXPECT_FALSE(t.external);
    EXPECT_EQ(t.resource_share_name, "golden");
    EXPECT_EQ(t.entity_type, t.entity_id == "fd-a" ? "Folder" : "Account");
  }
  auto d = cloud.disassociate_resource_share(kRegion, id, {}, {"fd-a"});
  ASSERT_TRUE(d.ok()) << d.error().to_string();
  EXPECT_EQ(d->at(0).association_status, "Disassociating");
  EXPECT_EQ(cloud.associate_resource_share(kRegion, id, {}, {"fd-a"}).error().code,
            "AssociateConflict");
  cloud.settle_resource_sharing();
  EXPECT_EQ(statuses(id, "Target")["fd-a"], "Disassociated");
  EXPECT_EQ(cloud.disassociate_resource_share(kRegion, id, {}, {"fd-a"}).error().code,
            "DisassociateInvalid");
  auto again = cloud.associate_resource_share(kRegion, id, {}, {"fd-a"});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->at(0).association_status, "Associating") << "re-associating starts over";
  auto conflict = cloud.disassociate_resource_share(kRegion, id, {}, {"fd-a"});
  EXPECT_EQ(conflict.error().code, "DisassociateConflict");
  EXPECT_EQ(conflict.error().cls, cloud::ErrorClass::kConflict);
}

TEST_F(FakeShareTest, FivePerCallAndOtherRefusalsChangeNothing) {
  std::vector<std::string> six = uids(0, 5);
  six.push_back(kMember);
  auto too_many = cloud.create_resource_share(kRegion, "x", {}, six, true, {});
  EXPECT_EQ(too_many.error().code, "InvalidParameter.Targets.Length");
  std::vector<cloud::ShareResource> six_resources(6, {"Snapshot", "s-cmk"});
  EXPECT_EQ(cloud.create_resource_share(kRegion, "x", six_resources, {}, false, {}).error().code,
            "InvalidParameter.Resources.Length");
  EXPECT_EQ(
      cloud.create_resource_share(kRegion, "x", {}, {kMember, kMember}, false, {}).error().code,
      "InvalidParameter.Targets.Duplicate");
  EXPECT_EQ(cloud.create_resource_share(kRegion, "bad name!", {}, {}, false, {}).error().code,
            "InvalidParameter.ResourceShareName");
  EXPECT_EQ(cloud.create_resource_share(kRegion, "x", {}, {kOwner}, false, {}).error().code,
            "ShareWithYourself");
  EXPECT_EQ(cloud.create_resource_share(kRegion, "x", {}, {"rd-other"}, false, {}).error().code,
            "InvalidTarget");
  EXPECT_EQ(cloud.create_resource_share(kRegion, "x", {}, {kOutsider}, false, {}).error().code,
            "InvalidTarget")
      << "outside the RD needs AllowExternalTargets";
  EXPECT_EQ(cloud.create_resource_share(kRegion, "x", {{"Snapshot", "s-nope"}}, {}, false, {})
                .error()
                .code,
            "EntityNotExists.Resource");
  EXPECT_EQ(cloud.create_resource_share("cn-shanghai", "x", {{"Snapshot", "s-cmk"}}, {}, false, {})
                .error()
                .code,
            "EntityNotExists.Resource")
      << "resources are regional";
  EXPECT_TRUE(cloud.resource_shares().empty()) << "a refused create leaves nothing behind";
  EXPECT_EQ(cloud.associate_resource_share(kRegion, "rs-nope", {}, {kMember}).error().code,
            "EntityNotExists.ResourceShare");
  auto s = cloud.create_resource_share(kRegion, "x", {}, {}, false, {});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(cloud.associate_resource_share(kRegion, s->resource_share_id, {}, {}).error().code,
            "ResourceAndTargetBothEmpty");
  // A refused association changes nothing, even the valid part of it.
  EXPECT_FALSE(
      cloud.associate_resource_share(kRegion, s->resource_share_id, {}, {kMember, kOutsider}).ok());
  EXPECT_TRUE(statuses(s->resource_share_id, "Target").empty());
  // Names are not unique.
  EXPECT_TRUE(cloud.create_resource_share(kRegion, "x", {}, {}, false, {}).ok());
}

TEST_F(FakeShareTest, ServiceKeyResourcesFailWithADetailPerTarget) {
  auto s = cloud.create_resource_share(kRegion, "svc", {}, {kMember}, false, {});
  ASSERT_TRUE(s.ok());
  auto a =
      cloud.associate_resource_share(kRegion, s->resource_share_id, {{"Snapshot", "s-svc"}}, {});
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->at(0).association_status, "Failed");
  ASSERT_EQ(a->at(0).failures.size(), 1U);
  EXPECT_EQ(a->at(0).failures[0].entity_id, kMember);
  EXPECT_EQ(a->at(0).failures[0].failure_reason, "UnsupportedOperation");
  cloud.settle_resource_sharing();
  EXPECT_EQ(statuses(s->resource_share_id, "Resource")["s-svc"], "Failed");
}

TEST_F(FakeShareTest, ExternalTargetsWaitForTheirInvitation) {
  auto s = cloud.create_resource_share(kRegion, "ext", {{"Image", "m-plain"}}, {kOutsider, uid(1)},
                                       true, {});
  ASSERT_TRUE(s.ok());
  const std::string id = s->resource_share_id;
  cloud.settle_resource_sharing();
  auto targets = cloud.list_resource_share_associations(kRegion, "Target", {id});
  ASSERT_TRUE(targets.ok());
  for (const auto& t : *targets) {
    EXPECT_TRUE(t.external);
    EXPECT_EQ(t.association_status, "Associating") << "pending invitation";
    EXPECT_NE(t.association_status_message.find("invitation"), std::string::npos);
  }
  EXPECT_EQ(cloud.invitation_status(id, kOutsider), "Pending");
  EXPECT_EQ(cloud.accept_invitations(kOutsider), 1);
  cloud.settle_resource_sharing();
  EXPECT_EQ(statuses(id, "Target")[kOutsider], "Associated");
  EXPECT_EQ(statuses(id, "Target")[uid(1)], "Associating");
  cloud.expire_invitations();
  EXPECT_EQ(cloud.invitation_status(id, uid(1)), "Expired");
  EXPECT_EQ(statuses(id, "Target")[uid(1)], "Failed");
  // Associating it again sends a new invitation; withdrawing a pending one cancels it.
  ASSERT_TRUE(cloud.associate_resource_share(kRegion, id, {}, {uid(1)}).ok());
  EXPECT_EQ(cloud.invitation_status(id, uid(1)), "Pending");
  ASSERT_TRUE(cloud.disassociate_resource_share(kRegion, id, {}, {uid(1)}).ok());
  EXPECT_EQ(cloud.invitation_status(id, uid(1)), "Cancelled");
  ASSERT_TRUE(cloud.associate_resource_share(kRegion, id, {}, {uid(2)}).ok());
  cloud.reject_invitation(id, uid(2));
  EXPECT_EQ(statuses(id, "Target")[uid(2)], "Failed");
}

TEST_F(FakeShareTest, ListUpdateAndDeleteShares) {
  auto ours = cloud.create_resource_share(kRegion, "golden", {}, {}, false,
                                          {{"sharekeeper:managed-by", "sk"}});
  ASSERT_TRUE(ours.ok());
  cloud.add_resource_share(kRegion, "rs-theirs", "golden", false, {{"team", "a"}});
  cloud.add_resource_share("cn-shanghai", "rs-elsewhere", "golden", false);
  auto tagged = cloud.list_resource_shares(kRegion, {.tags = {{"sharekeeper:managed-by", "sk"}}});
  ASSERT_TRUE(tagged.ok());
  ASSERT_EQ(tagged->size(), 1U);
  EXPECT_EQ(tagged->at(0).resource_share_id, ours->resource_share_id);
  EXPECT_EQ(cloud.list_resource_shares(kRegion, {.name = "golden"})->size(), 2U);
  EXPECT_EQ(cloud.list_resource_shares(kRegion, {.resource_share_ids = {"rs-theirs"}})->size(), 1U);
  std::vector<std::string> seven = uids(0, 6);
  seven.push_back("rs-theirs");
  cloud.reset_counters();
  EXPECT_EQ(cloud.list_resource_shares(kRegion, {.resource_share_ids = seven})->size(), 1U);
  EXPECT_EQ(cloud.requests(), 2) << "ResourceShareIds go 5 per request";

  auto renamed = cloud.update_resource_share(kRegion, ours->resource_share_id, "renamed", true);
  ASSERT_TRUE(renamed.ok());
  EXPECT_EQ(renamed->resource_share_name, "renamed");
  EXPECT_TRUE(renamed->allow_external_targets);
  EXPECT_EQ(renamed->tags, (std::vector<cloud::Tag>{{"sharekeeper:managed-by", "sk"}}));

  ASSERT_TRUE(
      cloud.associate_resource_share(kRegion, ours->resource_share_id, {}, {kOutsider}).ok());
  ASSERT_TRUE(cloud.delete_resource_share(kRegion, ours->resource_share_id).ok());
  EXPECT_EQ(cloud.invitation_status(ours->resource_share_id, kOutsider), "Cancelled");
  EXPECT_EQ(cloud.resource_share(ours->resource_share_id)->share.resource_share_status, "Deleting");
  EXPECT_EQ(statuses(ours->resource_share_id, "Target")[kOutsider], "Disassociating");
  EXPECT_EQ(
      cloud.associate_resource_share(kRegion, ours->resource_share_id, {}, {kMember}).error().code,
      "ResourceShareStatusMismatchAction");
  cloud.settle_resource_sharing();
  auto deleted = cloud.list_resource_shares(kRegion, {.status = "Deleted"});
  ASSERT_EQ(deleted->size(), 1U) << "Deleted shares are still listed";
  EXPECT_TRUE(cloud.delete_resource_share(kRegion, ours->resource_share_id).ok());
  EXPECT_TRUE(cloud.delete_resource_share(kRegion, "rs-nope").ok()) << "absent is success";
}

TEST_F(FakeShareTest, WritesAreCountedJournaledAndFaultable) {
  cloud.inject({.action = "AssociateResourceShare",
                .code = "ServiceUnavailable",
                .cls = cloud::ErrorClass::kOutcomeUnknown,
                .after_commit = true});
  auto s = cloud.create_resource_share(kRegion, "golden", {}, {}, false, {});
  ASSERT_TRUE(s.ok());
  auto lost = cloud.associate_resource_share(kRegion, s->resource_share_id, {}, {kMember});
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.error().cls, cloud::ErrorClass::kOutcomeUnknown);
  EXPECT_EQ(statuses(s->resource_share_id, "Target")[kMember], "Associating")
      << "committed before the error";
  EXPECT_EQ(cloud.calls("AssociateResourceShare"), 1);
  EXPECT_EQ(cloud.write_calls(), 2);
  const auto journal = cloud.journal();
  EXPECT_EQ(journal.back(), "AssociateResourceShare " + s->resource_share_id + " +" + kMember);
  cloud.inject({.action = "ModifyImageSharePermission",
                .code = "Throttling.User",
                .cls = cloud::ErrorClass::kThrottled});
  EXPECT_EQ(share("m-plain", {kMember}).error().cls, cloud::ErrorClass::kThrottled);
  EXPECT_TRUE(cloud.image_shares("m-plain").empty()) << "refused before committing";
}

TEST_F(FakeShareTest, SeededAssociationsAreListedVerbatim) {
  cloud::ResourceShareAssociation a;
  a.resource_share_id = "rs-seeded";
  a.association_type = "Target";
  a.entity_id = "fd-b";
  a.entity_type = "Folder";
  a.association_status = "Failed";
  a.association_status_message = "LimitExceeded";
  cloud.add_association(a);
  EXPECT_EQ(statuses("rs-seeded", "Target")["fd-b"], "Failed");
  EXPECT_TRUE(statuses("rs-seeded", "Resource").empty());
  EXPECT_EQ(cloud.resource_share("rs-seeded")->share.resource_share_status, "Active");
}

}  // namespace
}  // namespace sharekeeper::testing
