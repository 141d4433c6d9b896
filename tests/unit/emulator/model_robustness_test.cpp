// Every action, called with no parameters and with hostile values, answers an Alibaba error or a
// success, never an InternalError (500) or a crash.
#include "tests/unit/emulator/model_fixture.hpp"

namespace sharekeeper::emulator::testing {
namespace {

const std::vector<std::pair<std::string, std::vector<std::string>>> kActions = {
    {"ram", {"CreateRole",          "GetRole",
             "UpdateRole",          "DeleteRole",
             "ListRoles",           "CreatePolicy",
             "GetPolicy",           "DeletePolicy",
             "ListPolicies",        "CreatePolicyVersion",
             "GetPolicyVersion",    "ListPolicyVersions",
             "DeletePolicyVersion", "SetDefaultPolicyVersion",
             "AttachPolicyToRole",  "DetachPolicyFromRole",
             "ListPoliciesForRole", "ListEntitiesForPolicy",
             "TagResources",        "UntagResources",
             "ListTagResources"}},
    {"sts", {"GetCallerIdentity", "AssumeRole", "AssumeRoleWithOIDC"}},
    {"ecs",
     {"DescribeSnapshots", "DescribeImages", "DescribeImageSharePermission",
      "ModifyImageSharePermission"}},
    {"kms", {"DescribeKey", "ListKeys", "ListAliases", "ListAliasesByKeyId"}},
    {"resourcesharing",
     {"CreateResourceShare", "AssociateResourceShare", "DisassociateResourceShare",
      "ListResourceShareAssociations", "ListSharedResources", "ListSharedTargets",
      "ListResourceShares", "ListResourceShareInvitations", "AcceptResourceShareInvitation",
      "RejectResourceShareInvitation"}},
};

const std::vector<std::string> kNames = {"RoleName",
                                         "AssumeRolePolicyDocument",
                                         "NewAssumeRolePolicyDocument",
                                         "PolicyName",
                                         "PolicyDocument",
                                         "PolicyType",
                                         "VersionId",
                                         "RotateStrategy",
                                         "SetAsDefault",
                                         "MaxItems",
                                         "Marker",
                                         "Tag",
                                         "ResourceType",
                                         "ResourceNames",
                                         "TagKeys",
                                         "All",
                                         "PageSize",
                                         "NextToken",
                                         "RoleArn",
                                         "RoleSessionName",
                                         "DurationSeconds",
                                         "Policy",
                                         "OIDCProviderArn",
                                         "OIDCToken",
                                         "RegionId",
                                         "SnapshotIds",
                                         "ImageId",
                                         "AddAccount.1",
                                         "RemoveAccount.11",
                                         "Tag.1.Key",
                                         "Tag.99.Value",
                                         "Filter.1.Key",
                                         "Filter.1.Value",
                                         "MaxResults",
                                         "PageNumber",
                                         "Encrypted",
                                         "ImageOwnerAlias",
                                         "KeyId",
                                         "Filters",
                                         "ResourceShareName",
                                         "ResourceShareId",
                                         "Resources.1.ResourceType",
                                         "Resources.1.ResourceId",
                                         "Targets.1",
                                         "AssociationType",
                                         "ResourceOwner",
                                         "ResourceShareInvitationId",
                                         "AllowExternalTargets",
                                         "IsPublic",
                                         "DryRun"};

const std::vector<std::string> kValues = {"",
                                          "-1",
                                          "99999999999999999999",
                                          "[",
                                          "{}",
                                          "[1,2]",
                                          "null",
                                          "true",
                                          "\xff\xfe",
                                          "acs:ram::",
                                          "alias/",
                                          "ek-5",
                                          "m-enc1",
                                          "s-enc1",
                                          "fd-dev",
                                          "rd-abc123",
                                          std::string(7000, 'x'),
                                          "[\"s-enc1\"]",
                                          R"([{"Key":"KeyState"}])"};

TEST_F(ModelTest, NoActionAnswersInternalError) {
  int calls = 0;
  for (const auto& [product, actions] : kActions) {
    for (const auto& action : actions) {
      auto check = [&](std::map<std::string, std::string> p) {
        for (const char* key : {"AKSHARERROOT", "AKSHARERUSER", ""}) {
          auto r = call(product, action, p, key);
          ++calls;
          ASSERT_NE(r.status, 500) << product << " " << action << " " << r.body.dump();
          ASSERT_TRUE(r.body.contains("RequestId"));
          if (r.status != 200) {
            ASSERT_TRUE(r.body.contains("Code"));
          }
        }
      };
      check({});
      for (const auto& v : kValues) {
        std::map<std::string, std::string> p;
        for (const auto& n : kNames) p[n] = v;
        check(p);
      }
    }
  }
  EXPECT_GT(calls, 2000);
}

}  // namespace
}  // namespace sharekeeper::emulator::testing
