// Resource Sharing: limits of 5 per call, asynchronous associations (explicit clock), external
// targets as invitations, bare arrays and NextToken paging.
#include "tests/unit/emulator/model_fixture.hpp"

namespace sharekeeper::emulator::testing {
namespace {

using nlohmann::json;
using Params = std::map<std::string, std::string>;
using std::chrono::milliseconds;

class RsTest : public ModelTest {
 protected:
  ApiResponse rs(const std::string& action, Params p = {},
                 const std::string& key = "AKSHARERROOT") {
    return call("resourcesharing", action, std::move(p), key);
  }
  std::string create(Params p) {
    if (p.count("ResourceShareName") == 0)
      p["ResourceShareName"] = "share-" + std::to_string(++shares_);
    auto r = rs("CreateResourceShare", p);
    EXPECT_EQ(r.status, 200) << r.body.dump();
    return r.body["ResourceShare"]["ResourceShareId"];
  }
  std::map<std::string, std::string> statuses(const std::string& type, const std::string& share) {
    auto r = rs("ListResourceShareAssociations",
                {{"AssociationType", type}, {"ResourceShareIds.1", share}});
    EXPECT_EQ(r.status, 200) << r.body.dump();
    std::map<std::string, std::string> out;
    for (const auto& a : r.body["ResourceShareAssociations"])
      out[a["EntityId"]] = a["AssociationStatus"];
    return out;
  }
  int shares_ = 0;
};

TEST_F(RsTest, AssociationsBecomeAssociatedAfterTheDelay) {
  std::string id = create({{"Resources.1.ResourceType", "Snapshot"},
                           {"Resources.1.ResourceId", "s-enc1"},
                           {"Targets.1", kRecipientA},
                           {"Targets.2", "fd-dev"}});
  EXPECT_EQ(id.rfind("rs-", 0), 0u);
  EXPECT_EQ(statuses("Resource", id)["s-enc1"], "Associating");
  EXPECT_EQ(statuses("Target", id)[kRecipientA], "Associating");
  now_ += milliseconds(199);
  EXPECT_EQ(statuses("Target", id)["fd-dev"], "Associating");
  now_ += milliseconds(1);
  EXPECT_EQ(statuses("Resource", id)["s-enc1"], "Associated");
  auto targets = statuses("Target", id);
  EXPECT_EQ(targets[kRecipientA], "Associated");
  EXPECT_EQ(targets["fd-dev"], "Associated");
  auto r = rs("ListResourceShareAssociations",
              {{"AssociationType", "Target"}, {"ResourceShareIds.1", id}});
  ASSERT_TRUE(r.body["ResourceShareAssociations"].is_array());  // bare array
  for (const auto& a : r.body["ResourceShareAssociations"]) {
    EXPECT_EQ(a["External"], false);
    EXPECT_EQ(a["EntityType"], a["EntityId"] == "fd-dev" ? "Folder" : "Account");
  }
  // Disassociating -> Disassociated after the same delay.
  auto d = rs("DisassociateResourceShare", {{"ResourceShareId", id}, {"Targets.1", kRecipientA}});
  ASSERT_EQ(d.status, 200) << d.body.dump();
  EXPECT_EQ(d.body["ResourceShareAssociations"][0]["AssociationStatus"], "Disassociating");
  now_ += milliseconds(200);
  EXPECT_EQ(statuses("Target", id)[kRecipientA], "Disassociated");
  EXPECT_EQ(
      code(rs("DisassociateResourceShare", {{"ResourceShareId", id}, {"Targets.1", kRecipientA}})),
      "DisassociateInvalid");
  // Re-associating starts over.
  auto again = rs("AssociateResourceShare", {{"ResourceShareId", id}, {"Targets.1", kRecipientA}});
  EXPECT_EQ(again.body["ResourceShareAssociations"][0]["AssociationStatus"], "Associating");
}

TEST_F(RsTest, FiveResourcesAndFiveTargetsPerCall) {
  Params six_targets{{"ResourceShareName", "t"}};
  for (int i = 1; i <= 6; ++i) six_targets["Targets." + std::to_string(i)] = "fd-dev";
  auto r = rs("CreateResourceShare", six_targets);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(code(r), "InvalidParameter.Targets.Length");
  Params six_resources{{"ResourceShareName", "r"}};
  for (int i = 1; i <= 6; ++i) {
    six_resources["Resources." + std::to_string(i) + ".ResourceType"] = "Snapshot";
    six_resources["Resources." + std::to_string(i) + ".ResourceId"] = "s-enc1";
  }
  EXPECT_EQ(code(rs("CreateResourceShare", six_resources)), "InvalidParameter.Resources.Length");
  std::string id = create({});
  Params five{{"ResourceShareId", id}};
  const char* ids[] = {"s-enc1", "s-enc2", "s-plain1", "m-enc1", "m-plain1"};
  for (int i = 1; i <= 5; ++i) {
    five["Resources." + std::to_string(i) + ".ResourceType"] =
        ids[i - 1][0] == 's' ? "Snapshot" : "Image";
    five["Resources." + std::to_string(i) + ".ResourceId"] = ids[i - 1];
  }
  auto ok5 = rs("AssociateResourceShare", five);
  ASSERT_EQ(ok5.status, 200) << ok5.body.dump();
  EXPECT_EQ(ok5.body["ResourceShareAssociations"].size(), 5u);
  Params six_assoc = six_targets;
  six_assoc.erase("ResourceShareName");
  six_assoc["ResourceShareId"] = id;
  EXPECT_EQ(code(rs("AssociateResourceShare", six_assoc)), "InvalidParameter.Targets.Length");
  EXPECT_EQ(code(rs("AssociateResourceShare", {{"ResourceShareId", id}})),
            "ResourceAndTargetBothEmpty");
}

TEST_F(RsTest, CreateAndAssociateErrors) {
  EXPECT_EQ(code(rs("CreateResourceShare", {{"ResourceShareName", "bad name!"}})),
            "InvalidParameter.ResourceShareName");
  // Names are not unique (the API's EntityAlreadyExists.ResourceShare is about the share ID).
  std::string first = create({{"ResourceShareName", "dup"}});
  std::string second = create({{"ResourceShareName", "dup"}});
  EXPECT_NE(first, second);
  EXPECT_EQ(code(rs("CreateResourceShare", {{"ResourceShareName", "x"}, {"Targets.1", kSharer}})),
            "ShareWithYourself");
  EXPECT_EQ(
      code(rs("CreateResourceShare", {{"ResourceShareName", "x"}, {"Targets.1", "rd-other"}})),
      "InvalidTarget");
  EXPECT_EQ(code(rs("CreateResourceShare", {{"ResourceShareName", "x"}, {"Targets.1", "fd-nope"}})),
            "InvalidTarget");
  // Outside the RD needs AllowExternalTargets.
  EXPECT_EQ(code(rs("CreateResourceShare", {{"ResourceShareName", "x"}, {"Targets.1", kOutsider}})),
            "InvalidTarget");
  EXPECT_EQ(code(rs("CreateResourceShare", {{"ResourceShareName", "x"},
                                            {"Resources.1.ResourceType", "Snapshot"},
                                            {"Resources.1.ResourceId", "s-nope"}})),
            "EntityNotExists.Resource");
  EXPECT_EQ(code(rs("CreateResourceShare", {{"ResourceShareName", "x"},
                                            {"Resources.1.ResourceType", "VSwitch"},
                                            {"Resources.1.ResourceId", "vsw-1"}})),
            "InvalidParameter.ResourceType");
  // A refused create leaves nothing behind.
  EXPECT_EQ(rs("ListResourceShares", {{"ResourceOwner", "Self"}}).body["ResourceShares"].size(),
            2u);
  EXPECT_EQ(code(rs("AssociateResourceShare",
                    {{"ResourceShareId", "rs-nope"}, {"Targets.1", kRecipientA}})),
            "EntityNotExists.ResourceShare");
  EXPECT_EQ(code(rs("ListSharedResources", {})), "MissingParameter");
  EXPECT_EQ(code(rs("ListResourceShareAssociations", {{"AssociationType", "Both"}})),
            "InvalidParameter.AssociationType");
}

TEST_F(RsTest, ServiceKeySnapshotAssociationFailsWithADetailPerTarget) {
  // The metadata: for a Resource association, each failure detail names the target it failed for.
  std::string id = create({{"Resources.1.ResourceType", "Snapshot"},
                           {"Resources.1.ResourceId", "s-svc1"},
                           {"Targets.1", kRecipientA},
                           {"Targets.2", "fd-dev"}});
  auto r = rs("ListResourceShareAssociations",
              {{"AssociationType", "Resource"}, {"ResourceShareIds.1", id}});
  ASSERT_EQ(r.body["ResourceShareAssociations"].size(), 1u) << r.body.dump();
  const json& a = r.body["ResourceShareAssociations"][0];
  EXPECT_EQ(a["AssociationStatus"], "Failed");
  EXPECT_NE(a["AssociationStatusMessage"].get<std::string>().find("service key"),
            std::string::npos);
  ASSERT_EQ(a["AssociationFailedDetails"].size(), 2u) << a.dump();
  std::map<std::string, std::string> by_target;
  for (const auto& d : a["AssociationFailedDetails"]) {
    EXPECT_EQ(d["FailureReason"], "UnsupportedOperation");
    EXPECT_EQ(d["OperationType"], "Associate");
    by_target[d["EntityId"]] = d["EntityType"];
  }
  EXPECT_EQ(by_target,
            (std::map<std::string, std::string>{{kRecipientA, "Account"}, {"fd-dev", "Folder"}}));
  // The targets themselves are fine; the pair cannot be used (the access evaluator says why).
  now_ += milliseconds(200);
  EXPECT_EQ(statuses("Target", id)[kRecipientA], "Associated");
}

TEST_F(RsTest, ExternalTargetsArePendingInvitationsUntilAccepted) {
  std::string id = create({{"AllowExternalTargets", "true"},
                           {"Resources.1.ResourceType", "Snapshot"},
                           {"Resources.1.ResourceId", "s-enc1"},
                           {"Targets.1", kOutsider}});
  now_ += milliseconds(1000);
  auto target = rs("ListResourceShareAssociations",
                   {{"AssociationType", "Target"}, {"ResourceShareIds.1", id}});
  EXPECT_EQ(target.body["ResourceShareAssociations"][0]["External"], true);
  EXPECT_EQ(target.body["ResourceShareAssociations"][0]["AssociationStatus"], "Associating");
  // The consumer sees the share as Pending and nothing to use yet.
  auto theirs = rs("ListResourceShares", {{"ResourceOwner", "OtherAccounts"}}, "AKOUTSIDER");
  ASSERT_EQ(theirs.body["ResourceShares"].size(), 1u);
  EXPECT_EQ(theirs.body["ResourceShares"][0]["ResourceShareStatus"], "Pending");
  EXPECT_TRUE(rs("ListSharedResources", {{"ResourceOwner", "OtherAccounts"}}, "AKOUTSIDER")
                  .body["SharedResources"]
                  .empty());
  auto inv = rs("ListResourceShareInvitations", {}, "AKOUTSIDER");
  ASSERT_EQ(inv.body["ResourceShareInvitations"].size(), 1u);
  EXPECT_EQ(inv.body["ResourceShareInvitations"][0]["Status"], "Pending");
  EXPECT_EQ(inv.body["ResourceShareInvitations"][0]["SenderAccountId"], kSharer);
  std::string inv_id = inv.body["ResourceShareInvitations"][0]["ResourceShareInvitationId"];
  // Only the receiver can accept.
  EXPECT_EQ(code(rs("AcceptResourceShareInvitation", {{"ResourceShareInvitationId", inv_id}},
                    "AKRECIPIENTA")),
            "EntityNotExists.ResourceShareInvitation");
  auto acc =
      rs("AcceptResourceShareInvitation", {{"ResourceShareInvitationId", inv_id}}, "AKOUTSIDER");
  ASSERT_EQ(acc.status, 200) << acc.body.dump();
  EXPECT_EQ(acc.body["ResourceShareInvitation"]["Status"], "Accepted");
  EXPECT_EQ(statuses("Target", id)[kOutsider], "Associated");
  auto res = rs("ListSharedResources", {{"ResourceOwner", "OtherAccounts"}}, "AKOUTSIDER");
  ASSERT_EQ(res.body["SharedResources"].size(), 1u);
  EXPECT_EQ(res.body["SharedResources"][0]["ResourceId"], "s-enc1");
  EXPECT_EQ(res.body["SharedResources"][0]["ResourceStatus"], "Available");
  EXPECT_EQ(rs("ListResourceShares", {{"ResourceOwner", "OtherAccounts"}}, "AKOUTSIDER")
                .body["ResourceShares"][0]["ResourceShareStatus"],
            "Active");
}

TEST_F(RsTest, AdminAcceptInvitationsByAccountOrAll) {
  create({{"AllowExternalTargets", "true"}, {"Targets.1", kOutsider}});
  json seed = base_seed();
  EXPECT_EQ(model_.accept_invitations(std::string(kRecipientA), now_), 0);
  EXPECT_EQ(model_.accept_invitations(std::nullopt, now_), 1);
  EXPECT_EQ(model_.accept_invitations(std::nullopt, now_), 0);
  EXPECT_EQ(rs("ListResourceShareInvitations", {}, "AKOUTSIDER")
                .body["ResourceShareInvitations"][0]["Status"],
            "Accepted");
}

TEST_F(RsTest, ListingsFromBothSidesAndPaging) {
  std::string id = create({{"Resources.1.ResourceType", "Snapshot"},
                           {"Resources.1.ResourceId", "s-enc1"},
                           {"Resources.2.ResourceType", "Image"},
                           {"Resources.2.ResourceId", "m-enc1"},
                           {"Targets.1", "rd-abc123"}});
  now_ += milliseconds(200);
  // Every RD member sees it; the outsider does not.
  auto b = rs("ListSharedResources",
              {{"ResourceOwner", "OtherAccounts"}, {"ResourceType", "Image"}}, "AKRECIPIENTB");
  ASSERT_EQ(b.body["SharedResources"].size(), 1u);
  EXPECT_EQ(b.body["SharedResources"][0]["ResourceId"], "m-enc1");
  EXPECT_TRUE(rs("ListSharedResources", {{"ResourceOwner", "OtherAccounts"}}, "AKOUTSIDER")
                  .body["SharedResources"]
                  .empty());
  auto mine = rs("ListSharedResources", {{"ResourceOwner", "Self"}, {"Target", "rd-abc123"}});
  EXPECT_EQ(mine.body["SharedResources"].size(), 2u);
  auto targets = rs("ListSharedTargets", {{"ResourceOwner", "Self"}, {"ResourceId", "s-enc1"}});
  ASSERT_EQ(targets.body["SharedTargets"].size(), 1u);
  EXPECT_EQ(targets.body["SharedTargets"][0]["TargetId"], "rd-abc123");
  auto page =
      rs("ListResourceShareAssociations", {{"AssociationType", "Resource"}, {"MaxResults", "1"}});
  ASSERT_EQ(page.body["ResourceShareAssociations"].size(), 1u);
  ASSERT_TRUE(page.body.contains("NextToken"));
  auto next = rs("ListResourceShareAssociations",
                 {{"AssociationType", "Resource"},
                  {"MaxResults", "1"},
                  {"NextToken", page.body["NextToken"].get<std::string>()}});
  EXPECT_EQ(next.body["ResourceShareAssociations"].size(), 1u);
  EXPECT_FALSE(next.body.contains("NextToken"));
  EXPECT_EQ(code(rs("ListResourceShareAssociations",
                    {{"AssociationType", "Resource"}, {"MaxResults", "101"}})),
            "InvalidParameter.MaxResults");
  for (int i = 0; i < 24; ++i) create({});
  auto shares = rs("ListResourceShares", {{"ResourceOwner", "Self"}});
  EXPECT_EQ(shares.body["ResourceShares"].size(), 20u);  // default page of 20
  EXPECT_TRUE(shares.body.contains("NextToken"));
  EXPECT_EQ(rs("ListResourceShares", {{"ResourceOwner", "Self"}, {"ResourceShareIds.1", id}})
                .body["ResourceShares"]
                .size(),
            1u);
  Params six{{"ResourceOwner", "Self"}};
  for (int i = 1; i <= 6; ++i) six["ResourceShareIds." + std::to_string(i)] = id;
  EXPECT_EQ(code(rs("ListResourceShares", six)), "InvalidParameter.ResourceShareIds.Length");
}

}  // namespace
}  // namespace sharekeeper::emulator::testing

namespace sharekeeper::emulator::testing {
namespace {

TEST_F(RsTest, ImagesSharedByResourceSharingShowAsOthers) {
  create({{"Resources.1.ResourceType", "Image"},
          {"Resources.1.ResourceId", "m-plain1"},
          {"Targets.1", "fd-dev"}});
  auto describe = [&] {
    return call("ecs", "DescribeImages", {{"RegionId", kRegion}, {"ImageOwnerAlias", "others"}},
                "AKRECIPIENTB");
  };
  EXPECT_TRUE(describe().body["Images"]["Image"].empty());  // still Associating
  now_ += std::chrono::milliseconds(200);
  auto r = describe();
  ASSERT_EQ(r.body["Images"]["Image"].size(), 1u) << r.body.dump();
  EXPECT_EQ(r.body["Images"]["Image"][0]["ImageId"], "m-plain1");
  EXPECT_TRUE(call("ecs", "DescribeImages", {{"RegionId", kRegion}, {"ImageOwnerAlias", "others"}},
                   "AKRECIPIENTA")
                  .body["Images"]["Image"]
                  .empty());
}

}  // namespace
}  // namespace sharekeeper::emulator::testing
