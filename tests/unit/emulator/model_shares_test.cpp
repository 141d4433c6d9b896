// What the share driver meets (issue 12), model level with an explicit clock: the ECS image-share
// refusals added from the 2025 metadata (service key, disabled CMK, deprecated image, the FullImage
// switch), DeleteImage's ImageUseShared, image and snapshot tags; Resource Sharing tags, update,
// delete, AssociateConflict / DisassociateConflict, duplicates, invitations that are withdrawn,
// rejected or expire after 7 days, the optional share-role check; seeded resource shares; and
// what /_emulator/access says on each path.
#include "tests/unit/emulator/model_fixture.hpp"

namespace sharekeeper::emulator::testing {
namespace {

using nlohmann::json;
using Params = std::map<std::string, std::string>;
using std::chrono::hours;
using std::chrono::milliseconds;

std::string trust_for(const std::string& services, const std::string& condition = "") {
  return R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":[)" +
         services + "]}" + (condition.empty() ? "" : ",\"Condition\":" + condition) + "}]}";
}

// base_seed() plus a snapshot and image under the disabled CMK, a deprecated image, and the
// switches of `emulation`.
json seed_with(const json& emulation = json::object()) {
  json s = base_seed();
  auto& region = s["accounts"][0]["regions"]["cn-hangzhou"];
  region["snapshots"].push_back(
      {{"snapshotId", "s-off1"}, {"encrypted", true}, {"kmsKeyId", "key-hzz0002"}});
  region["images"].push_back({{"imageId", "m-off1"}, {"snapshotIds", {"s-off1"}}});
  region["images"].push_back(
      {{"imageId", "m-old1"}, {"snapshotIds", {"s-plain1"}}, {"status", "Deprecated"}});
  region["images"].push_back({{"imageId", "m-cmk1"}, {"snapshotIds", {"s-enc2"}}});
  if (!emulation.empty()) s["emulation"] = emulation;
  return s;
}

class SharesTest : public ModelTest {
 protected:
  SharesTest() { model_.load_seed(seed_with()); }

  ApiResponse ecs(const std::string& action, Params p, const std::string& key = "AKSHARERROOT") {
    if (p.count("RegionId") == 0) p["RegionId"] = kRegion;
    return call("ecs", action, std::move(p), key);
  }
  ApiResponse rs(const std::string& action, Params p = {},
                 const std::string& key = "AKSHARERROOT") {
    return call("resourcesharing", action, std::move(p), key);
  }
  void ok(const ApiResponse& r) { ASSERT_EQ(r.status, 200) << r.body.dump(); }
  void role(const std::string& name, const std::string& trust) {
    ok(call("ram", "CreateRole", {{"RoleName", name}, {"AssumeRolePolicyDocument", trust}}));
  }
  std::string create(Params p) {
    if (p.count("ResourceShareName") == 0) p["ResourceShareName"] = "s" + std::to_string(++n_);
    auto r = rs("CreateResourceShare", p);
    EXPECT_EQ(r.status, 200) << r.body.dump();
    return r.body["ResourceShare"].value("ResourceShareId", "");
  }
  json association(const std::string& share, const std::string& type, const std::string& id) {
    auto r = rs("ListResourceShareAssociations",
                {{"AssociationType", type}, {"ResourceShareIds.1", share}});
    for (const auto& a : r.body["ResourceShareAssociations"])
      if (a["EntityId"] == id) return a;
    return json();
  }
  std::string status(const std::string& share, const std::string& type, const std::string& id) {
    json a = association(share, type, id);
    return a.is_null() ? "" : a["AssociationStatus"].get<std::string>();
  }
  json invitations(const std::string& key) {
    return rs("ListResourceShareInvitations", {}, key).body["ResourceShareInvitations"];
  }
  json access(const std::string& uid, const std::string& resource) {
    return model_.access(uid, resource, now_);
  }
  static bool mentions(const json& a, const std::string& text) {
    return a["reasons"].dump().find(text) != std::string::npos;
  }
};

// ---- ECS

TEST_F(SharesTest, ImageShareRefusalsOfTheCurrentMetadata) {
  role("AliyunECSShareEncryptImageDefaultRole",
       trust_for(R"("2000000000000002@ecs.aliyuncs.com")"));
  auto svc =
      ecs("ModifyImageSharePermission", {{"ImageId", "m-svc1"}, {"AddAccount.1", kRecipientA}});
  EXPECT_EQ(svc.status, 403);
  EXPECT_EQ(code(svc), "InvalidOperation.ServiceKeyEncryptedImageUnsupported");
  auto off =
      ecs("ModifyImageSharePermission", {{"ImageId", "m-off1"}, {"AddAccount.1", kRecipientA}});
  EXPECT_EQ(off.status, 403);
  EXPECT_EQ(code(off), "InvalidParameter.KMSKeyId.CMKNotEnabled");
  auto old =
      ecs("ModifyImageSharePermission", {{"ImageId", "m-old1"}, {"AddAccount.1", kRecipientA}});
  EXPECT_EQ(old.status, 403);
  EXPECT_EQ(code(old), "OperationDenied.InvalidImageStatus");
  // Removing needs none of it.
  ok(ecs("ModifyImageSharePermission", {{"ImageId", "m-off1"}, {"RemoveAccount.1", kRecipientA}}));
  // m-enc1 is encrypted and has two snapshots: shared by default (the quickstart's golden image is
  // such an image)...
  ok(ecs("ModifyImageSharePermission", {{"ImageId", "m-enc1"}, {"AddAccount.1", kRecipientA}}));
  // ...refused as the metadata's OperationDeined.FullImage when the seed says so.
  model_.load_seed(seed_with({{"refuseEncryptedFullImages", true}}));
  role("AliyunECSShareEncryptImageDefaultRole",
       trust_for(R"("2000000000000002@ecs.aliyuncs.com")"));
  auto full =
      ecs("ModifyImageSharePermission", {{"ImageId", "m-enc1"}, {"AddAccount.1", kRecipientA}});
  EXPECT_EQ(full.status, 403);
  EXPECT_EQ(code(full), "OperationDeined.FullImage");
  // One encrypted snapshot is fine.
  ok(ecs("ModifyImageSharePermission", {{"ImageId", "m-cmk1"}, {"AddAccount.1", kRecipientA}}));
}

TEST_F(SharesTest, DeleteImageRefusesASharedImageEvenWithForce) {
  ok(ecs("ModifyImageSharePermission", {{"ImageId", "m-plain1"}, {"AddAccount.1", kRecipientA}}));
  auto shared = ecs("DeleteImage", {{"ImageId", "m-plain1"}, {"Force", "true"}});
  EXPECT_EQ(shared.status, 403);
  EXPECT_EQ(code(shared), "ImageUseShared");
  ok(ecs("ModifyImageSharePermission",
         {{"ImageId", "m-plain1"}, {"RemoveAccount.1", kRecipientA}}));
  // Held by a resource share (Associating or Associated): refused as well.
  std::string id = create({{"Resources.1.ResourceType", "Image"},
                           {"Resources.1.ResourceId", "m-plain1"},
                           {"Targets.1", "fd-dev"}});
  EXPECT_EQ(code(ecs("DeleteImage", {{"ImageId", "m-plain1"}})), "ImageUseShared");
  now_ += milliseconds(200);
  EXPECT_EQ(code(ecs("DeleteImage", {{"ImageId", "m-plain1"}})), "ImageUseShared");
  ok(rs("DisassociateResourceShare", {{"ResourceShareId", id},
                                      {"Resources.1.ResourceType", "Image"},
                                      {"Resources.1.ResourceId", "m-plain1"}}));
  EXPECT_EQ(code(ecs("DeleteImage", {{"ImageId", "m-plain1"}, {"DryRun", "true"}})),
            "DryRunOperation");
  ok(ecs("DeleteImage", {{"ImageId", "m-plain1"}}));
  auto gone = ecs("DescribeImages", {{"ImageId", "m-plain1"}, {"ImageOwnerAlias", "self"}});
  EXPECT_TRUE(gone.body["Images"]["Image"].empty());
  // A missing image is ignored, as the ImageId parameter is documented.
  ok(ecs("DeleteImage", {{"ImageId", "m-plain1"}}));
  EXPECT_EQ(code(ecs("DeleteImage", {{"ImageId", "m-enc1"}, {"Force", "maybe"}})),
            "InvalidParameter.Force");
}

TEST_F(SharesTest, ImageAndSnapshotTags) {
  ok(ecs("TagResources", {{"ResourceType", "image"},
                          {"ResourceId.1", "m-plain1"},
                          {"ResourceId.2", "m-enc1"},
                          {"Tag.1.Key", "sharekeeper:managed-by"},
                          {"Tag.1.Value", "sk"}}));
  auto tagged = ecs("DescribeImages", {{"ImageOwnerAlias", "self"},
                                       {"Tag.1.Key", "sharekeeper:managed-by"},
                                       {"Tag.1.Value", "sk"}});
  ASSERT_EQ(tagged.body["Images"]["Image"].size(), 2u) << tagged.body.dump();
  auto listed = ecs("ListTagResources", {{"ResourceType", "image"}, {"ResourceId.1", "m-plain1"}});
  ok(listed);
  std::set<std::pair<std::string, std::string>> pairs;
  for (const auto& t : listed.body["TagResources"]["TagResource"]) {
    EXPECT_EQ(t["ResourceType"], "image");
    pairs.emplace(t["TagKey"], t["TagValue"]);
  }
  EXPECT_EQ(pairs, (std::set<std::pair<std::string, std::string>>{
                       {"env", "prod"}, {"sharekeeper:managed-by", "sk"}}));
  ok(ecs("UntagResources", {{"ResourceType", "image"},
                            {"ResourceId.1", "m-plain1"},
                            {"TagKey.1", "sharekeeper:managed-by"},
                            {"TagKey.2", "never-set"}}));
  EXPECT_EQ(ecs("ListTagResources", {{"ResourceType", "image"}, {"ResourceId.1", "m-plain1"}})
                .body["TagResources"]["TagResource"]
                .size(),
            1u);
  ok(ecs("TagResources", {{"ResourceType", "snapshot"},
                          {"ResourceId.1", "s-enc1"},
                          {"Tag.1.Key", "k"},
                          {"Tag.1.Value", ""}}));
  auto snaps = ecs("DescribeSnapshots", {{"Tag.1.Key", "k"}});
  ASSERT_EQ(snaps.body["Snapshots"]["Snapshot"].size(), 1u);
  // Refusals, all or nothing.
  EXPECT_EQ(code(ecs("TagResources",
                     {{"ResourceType", "instance"}, {"ResourceId.1", "i-1"}, {"Tag.1.Key", "k"}})),
            "InvalidResourceType.NotFound");
  EXPECT_EQ(code(ecs("TagResources", {{"ResourceType", "image"},
                                      {"ResourceId.1", "m-plain1"},
                                      {"ResourceId.2", "m-nope"},
                                      {"Tag.1.Key", "new"}})),
            "InvalidResourceId.NotFound");
  EXPECT_EQ(ecs("ListTagResources", {{"ResourceType", "image"}, {"Tag.1.Key", "new"}})
                .body["TagResources"]["TagResource"]
                .size(),
            0u)
      << "nothing tagged by the refused call";
  EXPECT_EQ(
      code(ecs("TagResources",
               {{"ResourceType", "image"}, {"ResourceId.1", "m-plain1"}, {"Tag.1.Key", "acs:x"}})),
      "InvalidTagKey.Malformed");
  Params many{{"ResourceType", "image"}, {"ResourceId.1", "m-plain1"}};
  for (int i = 1; i <= 21; ++i) many["Tag." + std::to_string(i) + ".Key"] = "k" + std::to_string(i);
  EXPECT_EQ(code(ecs("TagResources", many)), "NumberExceed.Tags");
  many.erase("Tag.21.Key");
  EXPECT_EQ(code(ecs("TagResources", many)), "OperationDenied.QuotaExceed")
      << "env=prod is already there: 21 on the image";
  Params ids{{"ResourceType", "image"}, {"Tag.1.Key", "k"}};
  for (int i = 1; i <= 51; ++i) ids["ResourceId." + std::to_string(i)] = "m-" + std::to_string(i);
  EXPECT_EQ(code(ecs("TagResources", ids)), "NumberExceed.ResourceIds");
  EXPECT_EQ(code(ecs("ListTagResources", {{"ResourceType", "image"}})),
            "MissingParameter.ResourceIdOrTag");
}

// ---- Resource Sharing

TEST_F(SharesTest, ResourceSharesCarryTagsAndAreListedByThem) {
  std::string ours = create({{"Tag.1.Key", "sharekeeper:managed-by"},
                             {"Tag.1.Value", "sk"},
                             {"Tag.2.Key", "team"},
                             {"Tag.2.Value", ""}});
  create({{"Tag.1.Key", "sharekeeper:managed-by"}, {"Tag.1.Value", "other"}});
  create({});
  auto mine = rs(
      "ListResourceShares",
      {{"ResourceOwner", "Self"}, {"Tag.1.Key", "sharekeeper:managed-by"}, {"Tag.1.Value", "sk"}});
  ASSERT_EQ(mine.body["ResourceShares"].size(), 1u) << mine.body.dump();
  const json& s = mine.body["ResourceShares"][0];
  EXPECT_EQ(s["ResourceShareId"], ours);
  EXPECT_EQ(s["Tags"], json::parse(R"([{"Key":"sharekeeper:managed-by","Value":"sk"},
                                        {"Key":"team","Value":""}])"));
  EXPECT_EQ(
      rs("ListResourceShares", {{"ResourceOwner", "Self"}, {"Tag.1.Key", "sharekeeper:managed-by"}})
          .body["ResourceShares"]
          .size(),
      2u)
      << "a key without a value matches any value";
  EXPECT_EQ(
      code(rs("CreateResourceShare", {{"ResourceShareName", "x"}, {"Tag.1.Key", "aliyun-x"}})),
      "InvalidParameter.Tag");
  Params many{{"ResourceShareName", "x"}};
  for (int i = 1; i <= 21; ++i) many["Tag." + std::to_string(i) + ".Key"] = "k" + std::to_string(i);
  EXPECT_EQ(code(rs("CreateResourceShare", many)), "InvalidParameter.Tag");
  EXPECT_EQ(
      code(rs("ListResourceShares", {{"ResourceOwner", "Self"}, {"ResourceShareStatus", "Gone"}})),
      "InvalidParameter.ResourceShareStatus");
}

TEST_F(SharesTest, UpdateAndDeleteAResourceShare) {
  std::string id = create({{"Resources.1.ResourceType", "Snapshot"},
                           {"Resources.1.ResourceId", "s-plain1"},
                           {"Targets.1", kRecipientA}});
  EXPECT_EQ(code(rs("UpdateResourceShare", {{"ResourceShareId", id}})),
            "MissingParameter.ResourceShareName");
  auto u = rs("UpdateResourceShare", {{"ResourceShareId", id},
                                      {"ResourceShareName", "renamed"},
                                      {"AllowExternalTargets", "true"}});
  ok(u);
  EXPECT_EQ(u.body["ResourceShare"]["ResourceShareName"], "renamed");
  EXPECT_EQ(u.body["ResourceShare"]["AllowExternalTargets"], true);
  ok(rs("AssociateResourceShare", {{"ResourceShareId", id}, {"Targets.1", kOutsider}}));
  now_ += milliseconds(200);
  auto seen = rs("ListSharedResources", {{"ResourceOwner", "OtherAccounts"}}, "AKRECIPIENTA");
  ASSERT_EQ(seen.body["SharedResources"].size(), 1u);

  ok(rs("DeleteResourceShare", {{"ResourceShareId", id}}));
  auto listed = rs("ListResourceShares", {{"ResourceOwner", "Self"}, {"ResourceShareIds.1", id}});
  EXPECT_EQ(listed.body["ResourceShares"][0]["ResourceShareStatus"], "Deleting");
  EXPECT_EQ(status(id, "Target", kRecipientA), "Disassociating");
  EXPECT_EQ(invitations("AKOUTSIDER")[0]["Status"], "Cancelled") << "the pending invitation";
  EXPECT_EQ(
      code(rs("AssociateResourceShare", {{"ResourceShareId", id}, {"Targets.1", kRecipientB}})),
      "ResourceShareStatusMismatchAction");
  EXPECT_EQ(code(rs("UpdateResourceShare", {{"ResourceShareId", id}, {"ResourceShareName", "x"}})),
            "ResourceShareStatusMismatchAction");
  ok(rs("DeleteResourceShare", {{"ResourceShareId", id}}));  // again: changes nothing
  now_ += milliseconds(200);
  listed =
      rs("ListResourceShares", {{"ResourceOwner", "Self"}, {"ResourceShareStatus", "Deleted"}});
  ASSERT_EQ(listed.body["ResourceShares"].size(), 1u) << "Deleted shares are still listed";
  EXPECT_EQ(status(id, "Resource", "s-plain1"), "Disassociated");
  EXPECT_TRUE(rs("ListSharedResources", {{"ResourceOwner", "OtherAccounts"}}, "AKRECIPIENTA")
                  .body["SharedResources"]
                  .empty());
  EXPECT_TRUE(rs("ListResourceShares", {{"ResourceOwner", "OtherAccounts"}}, "AKRECIPIENTA")
                  .body["ResourceShares"]
                  .empty());
  EXPECT_EQ(code(rs("DeleteResourceShare", {{"ResourceShareId", "rs-nope"}})),
            "EntityNotExists.ResourceShare");
}

TEST_F(SharesTest, ConflictsWhileAsynchronousWorkIsUnderWay) {
  std::string id = create({{"Resources.1.ResourceType", "Snapshot"},
                           {"Resources.1.ResourceId", "s-plain1"},
                           {"Targets.1", kRecipientA}});
  // Still Associating: it cannot be disassociated yet.
  auto early =
      rs("DisassociateResourceShare", {{"ResourceShareId", id}, {"Targets.1", kRecipientA}});
  EXPECT_EQ(early.status, 409);
  EXPECT_EQ(code(early), "DisassociateConflict");
  now_ += milliseconds(200);
  ok(rs("DisassociateResourceShare", {{"ResourceShareId", id}, {"Targets.1", kRecipientA}}));
  // Still Disassociating: it cannot be associated again yet.
  auto again = rs("AssociateResourceShare", {{"ResourceShareId", id}, {"Targets.1", kRecipientA}});
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(code(again), "AssociateConflict");
  now_ += milliseconds(200);
  ok(rs("AssociateResourceShare", {{"ResourceShareId", id}, {"Targets.1", kRecipientA}}));
  // Associating what is live already changes nothing.
  now_ += milliseconds(200);
  auto same = rs("AssociateResourceShare", {{"ResourceShareId", id}, {"Targets.1", kRecipientA}});
  ok(same);
  EXPECT_EQ(same.body["ResourceShareAssociations"][0]["AssociationStatus"], "Associated");
  // Duplicates and conflicting filters.
  EXPECT_EQ(
      code(rs("AssociateResourceShare",
              {{"ResourceShareId", id}, {"Targets.1", kRecipientB}, {"Targets.2", kRecipientB}})),
      "InvalidParameter.Targets.Duplicate");
  EXPECT_EQ(code(rs("AssociateResourceShare", {{"ResourceShareId", id},
                                               {"Resources.1.ResourceType", "Snapshot"},
                                               {"Resources.1.ResourceId", "s-enc1"},
                                               {"Resources.2.ResourceType", "Snapshot"},
                                               {"Resources.2.ResourceId", "s-enc1"}})),
            "InvalidParameter.Resources.Duplicate");
  EXPECT_EQ(code(rs("ListResourceShareAssociations",
                    {{"AssociationType", "Target"}, {"ResourceId", "s-plain1"}})),
            "ConflictedAssociationType");
  EXPECT_EQ(code(rs("ListResourceShareAssociations",
                    {{"AssociationType", "Target"}, {"AssociationStatus", "Done"}})),
            "InvalidParameter.AssociationStatus");
  // A Failed association cannot be disassociated.
  ok(rs("AssociateResourceShare", {{"ResourceShareId", id},
                                   {"Resources.1.ResourceType", "Snapshot"},
                                   {"Resources.1.ResourceId", "s-svc1"}}));
  EXPECT_EQ(code(rs("DisassociateResourceShare", {{"ResourceShareId", id},
                                                  {"Resources.1.ResourceType", "Snapshot"},
                                                  {"Resources.1.ResourceId", "s-svc1"}})),
            "DisassociateInvalid");
}

TEST_F(SharesTest, InvitationsExpireAfterSevenDaysAndCanBeWithdrawnOrRejected) {
  std::string id = create({{"AllowExternalTargets", "true"},
                           {"Resources.1.ResourceType", "Snapshot"},
                           {"Resources.1.ResourceId", "s-plain1"},
                           {"Targets.1", kOutsider}});
  now_ += hours(24 * 7) - milliseconds(1);
  EXPECT_EQ(status(id, "Target", kOutsider), "Associating");
  EXPECT_EQ(invitations("AKOUTSIDER")[0]["Status"], "Pending");
  now_ += milliseconds(1);
  EXPECT_EQ(invitations("AKOUTSIDER")[0]["Status"], "Expired");
  json target = association(id, "Target", kOutsider);
  EXPECT_EQ(target["AssociationStatus"], "Failed");
  EXPECT_NE(target["AssociationStatusMessage"].get<std::string>().find("expired"),
            std::string::npos);
  std::string inv = invitations("AKOUTSIDER")[0]["ResourceShareInvitationId"];
  auto late =
      rs("AcceptResourceShareInvitation", {{"ResourceShareInvitationId", inv}}, "AKOUTSIDER");
  EXPECT_EQ(late.status, 409);
  EXPECT_EQ(code(late), "InvitationStatus.Expired");
  EXPECT_EQ(model_.accept_invitations(std::nullopt, now_), 0) << "nor through the admin API";
  // Associating it again sends a new invitation.
  ok(rs("AssociateResourceShare", {{"ResourceShareId", id}, {"Targets.1", kOutsider}}));
  EXPECT_EQ(status(id, "Target", kOutsider), "Associating");
  json all = invitations("AKOUTSIDER");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1]["Status"], "Pending");
  // The owner withdraws it while it is pending: Cancelled, and it cannot be accepted.
  ok(rs("DisassociateResourceShare", {{"ResourceShareId", id}, {"Targets.1", kOutsider}}));
  EXPECT_EQ(invitations("AKOUTSIDER")[1]["Status"], "Cancelled");
  auto cancelled =
      rs("AcceptResourceShareInvitation",
         {{"ResourceShareInvitationId", all[1]["ResourceShareInvitationId"]}}, "AKOUTSIDER");
  EXPECT_EQ(code(cancelled), "EntityNotExists.ResourceShareInvitation");
  EXPECT_EQ(cancelled.status, 409);
  now_ += milliseconds(200);
  // A third invitation, rejected: Failed; a rejected or accepted one cannot be answered again.
  ok(rs("AssociateResourceShare", {{"ResourceShareId", id}, {"Targets.1", kOutsider}}));
  std::string third = invitations("AKOUTSIDER")[2]["ResourceShareInvitationId"];
  ok(rs("RejectResourceShareInvitation", {{"ResourceShareInvitationId", third}}, "AKOUTSIDER"));
  EXPECT_EQ(status(id, "Target", kOutsider), "Failed");
  EXPECT_EQ(code(rs("AcceptResourceShareInvitation", {{"ResourceShareInvitationId", third}},
                    "AKOUTSIDER")),
            "InvitationStatus.AlreadyRejected");
  ok(rs("AssociateResourceShare", {{"ResourceShareId", id}, {"Targets.1", kOutsider}}));
  std::string fourth = invitations("AKOUTSIDER")[3]["ResourceShareInvitationId"];
  ok(rs("AcceptResourceShareInvitation", {{"ResourceShareInvitationId", fourth}}, "AKOUTSIDER"));
  EXPECT_EQ(code(rs("AcceptResourceShareInvitation", {{"ResourceShareInvitationId", fourth}},
                    "AKOUTSIDER")),
            "InvitationStatus.AlreadyAccepted");
  EXPECT_EQ(code(rs("RejectResourceShareInvitation", {{"ResourceShareInvitationId", fourth}},
                    "AKOUTSIDER")),
            "InvitationStatus.AlreadyAccepted");
  now_ += milliseconds(200);
  EXPECT_EQ(status(id, "Target", kOutsider), "Associated");
  now_ += hours(24 * 30);
  EXPECT_EQ(status(id, "Target", kOutsider), "Associated")
      << "an accepted invitation does not expire";
}

TEST_F(SharesTest, ShareRoleCheckOnAssociationIsASeedSwitch) {
  // Off (the default): Resource Sharing associates an encrypted snapshot whatever the role says;
  // only /_emulator/access reports the missing trust.
  std::string loose = create({{"Resources.1.ResourceType", "Snapshot"},
                              {"Resources.1.ResourceId", "s-enc1"},
                              {"Targets.1", kRecipientA}});
  now_ += milliseconds(200);
  EXPECT_EQ(status(loose, "Target", kRecipientA), "Associated");
  EXPECT_FALSE(access(kRecipientA, "s-enc1")["usable"].get<bool>());

  model_.load_seed(seed_with({{"resourceSharingChecksShareRole", true}}));
  std::string id = create({{"Resources.1.ResourceType", "Snapshot"},
                           {"Resources.1.ResourceId", "s-enc1"},
                           {"Targets.1", kRecipientA},
                           {"Targets.2", "fd-dev"}});
  json a = association(id, "Target", kRecipientA);
  EXPECT_EQ(a["AssociationStatus"], "Failed") << a.dump();
  ASSERT_EQ(a["AssociationFailedDetails"].size(), 1u);
  EXPECT_EQ(a["AssociationFailedDetails"][0]["EntityId"], "s-enc1");
  EXPECT_NE(a["AssociationStatusMessage"].get<std::string>().find(
                "AliyunECSShareEncryptSnapshotDefaultRole"),
            std::string::npos);
  EXPECT_EQ(status(id, "Target", "fd-dev"), "Failed");
  // With the trust in place, associating again succeeds: the account by UID, the folder by path.
  role(
      "AliyunECSShareEncryptSnapshotDefaultRole",
      R"({"Version":"1","Statement":[)"
      R"({"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":["2000000000000002@ecs.aliyuncs.com"]}},)"
      R"({"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":["*@ecs.aliyuncs.com"]},)"
      R"("Condition":{"StringLike":{"sts:ServiceOwnerRDPath":"rd-abc123/r-root1/fd-dev*"}}}]})");
  ok(rs("AssociateResourceShare",
        {{"ResourceShareId", id}, {"Targets.1", kRecipientA}, {"Targets.2", "fd-dev"}}));
  now_ += milliseconds(200);
  EXPECT_EQ(status(id, "Target", kRecipientA), "Associated");
  EXPECT_EQ(status(id, "Target", "fd-dev"), "Associated");
  // An unencrypted resource never needs the role; the RD as a target needs an RD-id statement.
  std::string rd = create({{"Resources.1.ResourceType", "Snapshot"},
                           {"Resources.1.ResourceId", "s-plain1"},
                           {"Targets.1", "rd-abc123"}});
  EXPECT_EQ(status(rd, "Target", "rd-abc123"), "Associating");
  std::string rd_enc = create({{"Resources.1.ResourceType", "Snapshot"},
                               {"Resources.1.ResourceId", "s-enc2"},
                               {"Targets.1", "rd-abc123"}});
  EXPECT_EQ(status(rd_enc, "Target", "rd-abc123"), "Failed");
}

// ---- seeded resource shares

TEST_F(SharesTest, SeededResourceSharesAreSettledAndListed) {
  json s = seed_with();
  s["resourceShares"] = json::parse(R"([
    {"resourceShareId": "rs-legacy", "owner": "1000000000000001", "region": "cn-hangzhou",
     "name": "legacy", "allowExternalTargets": true, "tags": {"team": "infra"},
     "resources": [{"type": "Snapshot", "id": "s-enc1"}, {"type": "Image", "id": "m-plain1"},
                   {"type": "Snapshot", "id": "s-svc1"}],
     "targets": ["2000000000000002", "fd-dev",
                 {"id": "4000000000000004", "invitation": "Pending",
                  "invitedAt": "2020-01-01T00:00:00Z"}]}])");
  model_.load_seed(s);
  EXPECT_EQ(status("rs-legacy", "Resource", "s-enc1"), "Associated");
  EXPECT_EQ(status("rs-legacy", "Resource", "s-svc1"), "Failed");
  EXPECT_EQ(association("rs-legacy", "Resource", "s-svc1")["AssociationFailedDetails"].size(), 3u)
      << "one detail per target";
  EXPECT_EQ(status("rs-legacy", "Target", "fd-dev"), "Associated");
  EXPECT_EQ(status("rs-legacy", "Target", kOutsider), "Failed") << "invited in 2020: expired";
  EXPECT_EQ(invitations("AKOUTSIDER")[0]["Status"], "Expired");
  auto listed = rs("ListResourceShares", {{"ResourceOwner", "Self"}, {"Tag.1.Key", "team"}});
  ASSERT_EQ(listed.body["ResourceShares"].size(), 1u);
  EXPECT_EQ(listed.body["ResourceShares"][0]["ResourceShareName"], "legacy");
  EXPECT_TRUE(access(kRecipientB, "m-plain1")["usable"].get<bool>()) << "fd-dev holds B";
  json state = model_.state();
  ASSERT_EQ(state["resourceShares"].size(), 1u);
  EXPECT_EQ(state["resourceShares"][0]["tags"]["team"], "infra");
  EXPECT_EQ(state["resourceShares"][0]["status"], "Active");
  EXPECT_EQ(state["invitations"][0]["status"], "Expired");
  EXPECT_EQ(state["emulation"]["refuseEncryptedFullImages"], false);
  // The emulator's own ids do not collide with seeded ones.
  std::string fresh = create({});
  EXPECT_NE(fresh, "rs-legacy");
}

TEST_F(SharesTest, MalformedSeededSharesNameTheJsonPath) {
  auto error = [](const json& shares, const json& emulation = json()) {
    json s = seed_with();
    s["resourceShares"] = shares;
    if (!emulation.is_null()) s["emulation"] = emulation;
    Model m;
    try {
      m.load_seed(s);
    } catch (const SeedError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  const json base = json::parse(R"({"owner": "1000000000000001", "region": "cn-hangzhou",
                                    "name": "n"})");
  auto with = [&](const json& patch) {
    json one = base;
    one.update(patch);
    return json::array({one});
  };
  EXPECT_NE(error(with({{"owner", "9999999999999999"}})).find("resourceShares[0].owner"),
            std::string::npos);
  EXPECT_NE(error(with({{"resources", {{{"type", "Snapshot"}, {"id", "s-nope"}}}}}))
                .find("resourceShares[0].resources[0].id"),
            std::string::npos);
  EXPECT_NE(error(with({{"targets", {"4000000000000004"}}})).find("allowExternalTargets"),
            std::string::npos);
  EXPECT_NE(error(with({{"targets", {{{"id", "2000000000000002"}, {"invitation", "Pending"}}}}}))
                .find("resourceShares[0].targets[0].invitation: only for external targets"),
            std::string::npos);
  EXPECT_NE(error(with({{"targets", {"1000000000000001"}}})).find("its owner"), std::string::npos);
  EXPECT_NE(error(with({{"resourceShareId", "rs-000000000001"}})).find("the emulator's own"),
            std::string::npos);
  EXPECT_NE(error(with({{"sharedWith", json::array()}}))
                .find("resourceShares[0].sharedWith: unknown field"),
            std::string::npos);
  EXPECT_NE(error(json::array(), {{"refuseFullImages", true}}).find("emulation.refuseFullImages"),
            std::string::npos);
  EXPECT_EQ(error(with(json::object())), "");
}

// ---- /_emulator/access on every path

TEST_F(SharesTest, AccessExplainsInvitationsDeletedSharesAndFailures) {
  std::string id = create({{"AllowExternalTargets", "true"},
                           {"Resources.1.ResourceType", "Image"},
                           {"Resources.1.ResourceId", "m-plain1"},
                           {"Targets.1", kOutsider}});
  now_ += milliseconds(200);
  json pending = access(kOutsider, "m-plain1");
  EXPECT_FALSE(pending["usable"].get<bool>());
  EXPECT_TRUE(mentions(pending, "to accept its invitation")) << pending.dump();
  EXPECT_TRUE(mentions(pending, "expires ")) << pending.dump();
  now_ += hours(24 * 8);
  json expired = access(kOutsider, "m-plain1");
  EXPECT_TRUE(mentions(expired, "was expired (valid 7 days)")) << expired.dump();
  // Image share permission: usable at once (no role needed for an unencrypted image).
  ok(ecs("ModifyImageSharePermission", {{"ImageId", "m-plain1"}, {"AddAccount.1", kOutsider}}));
  EXPECT_TRUE(access(kOutsider, "m-plain1")["usable"].get<bool>());
  ok(ecs("ModifyImageSharePermission", {{"ImageId", "m-plain1"}, {"RemoveAccount.1", kOutsider}}));
  // Through a folder, then the share deleted.
  std::string folder = create({{"Resources.1.ResourceType", "Image"},
                               {"Resources.1.ResourceId", "m-plain1"},
                               {"Targets.1", "fd-prod"}});
  EXPECT_TRUE(mentions(access(kRecipientA, "m-plain1"), "target fd-prod Associating"));
  now_ += milliseconds(200);
  EXPECT_TRUE(access(kRecipientA, "m-plain1")["usable"].get<bool>());
  EXPECT_FALSE(access(kRecipientB, "m-plain1")["usable"].get<bool>()) << "B is in fd-dev";
  ok(rs("DeleteResourceShare", {{"ResourceShareId", folder}}));
  json deleting = access(kRecipientA, "m-plain1");
  EXPECT_FALSE(deleting["usable"].get<bool>());
  EXPECT_TRUE(mentions(deleting, "resource share " + folder + " is Deleting")) << deleting.dump();
  // A failed association says why.
  std::string svc = create({{"Resources.1.ResourceType", "Snapshot"},
                            {"Resources.1.ResourceId", "s-svc1"},
                            {"Targets.1", "rd-abc123"}});
  json failed = access(kRecipientB, "s-svc1");
  EXPECT_TRUE(mentions(failed, "resource Failed")) << failed.dump();
  EXPECT_TRUE(mentions(failed, "service key")) << failed.dump();
  (void)id;
  (void)svc;
}

}  // namespace
}  // namespace sharekeeper::emulator::testing
