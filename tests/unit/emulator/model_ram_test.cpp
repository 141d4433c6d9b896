// RAM: roles, policies, versions, attachments, tags — every limit and error the emulator promises.
#include "tests/unit/emulator/model_fixture.hpp"

namespace sharekeeper::emulator::testing {
namespace {

using nlohmann::json;

const std::string kTrust =
    R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":["2000000000000002@ecs.aliyuncs.com"]}}]})";

std::string kms_policy(int n) {
  return R"({"Version":"1","Statement":[{"Effect":"Allow","Action":["kms:Decrypt"],"Resource":["acs:kms:cn-hangzhou:1000000000000001:key/k)" +
         std::to_string(n) + R"("]}]})";
}

class RamTest : public ModelTest {
 protected:
  ApiResponse ram(const std::string& action, std::map<std::string, std::string> p = {}) {
    return call("ram", action, std::move(p));
  }
  void create_role(const std::string& name) {
    auto r = ram("CreateRole", {{"RoleName", name}, {"AssumeRolePolicyDocument", kTrust}});
    ASSERT_EQ(r.status, 200) << r.body.dump();
  }
  void create_policy(const std::string& name, int n = 1) {
    auto r = ram("CreatePolicy", {{"PolicyName", name}, {"PolicyDocument", kms_policy(n)}});
    ASSERT_EQ(r.status, 200) << r.body.dump();
  }
};

TEST_F(RamTest, CreateAndGetRoleReserialisesTheTrustDocument) {
  auto r = ram("CreateRole", {{"RoleName", "AliyunECSShareEncryptImageDefaultRole"},
                              {"AssumeRolePolicyDocument", kTrust},
                              {"Description", "share images"}});
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(r.body["Role"]["RoleName"], "AliyunECSShareEncryptImageDefaultRole");
  EXPECT_EQ(r.body["Role"]["Arn"],
            "acs:ram::1000000000000001:role/aliyunecsshareencryptimagedefaultrole");
  auto g = ram("GetRole", {{"RoleName", "aliyunecsshareencryptimagedefaultrole"}});
  ASSERT_EQ(g.status, 200);
  EXPECT_EQ(g.body["Role"]["RoleName"], "AliyunECSShareEncryptImageDefaultRole");  // canonical case
  // A JSON string holding JSON, not byte-equal to the input, but the same document.
  ASSERT_TRUE(g.body["Role"]["AssumeRolePolicyDocument"].is_string());
  std::string doc = g.body["Role"]["AssumeRolePolicyDocument"];
  EXPECT_NE(doc, kTrust);
  EXPECT_NE(doc.find("\n  \"Statement\""), std::string::npos) << doc;
  EXPECT_LT(doc.find("\"Statement\""), doc.find("\"Version\""));
  EXPECT_EQ(json::parse(doc), json::parse(kTrust));
  EXPECT_TRUE(g.body["Role"].contains("UpdateDate"));
  EXPECT_EQ(g.body["Role"]["Description"], "share images");
}

TEST_F(RamTest, RoleErrors) {
  create_role("my-role");
  auto r = ram("CreateRole", {{"RoleName", "MY-ROLE"}, {"AssumeRolePolicyDocument", kTrust}});
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(code(r), "EntityAlreadyExists.Role");
  EXPECT_EQ(
      code(ram("CreateRole", {{"RoleName", "bad_name"}, {"AssumeRolePolicyDocument", kTrust}})),
      "InvalidParameter.RoleName.InvalidChars");
  EXPECT_EQ(code(ram("CreateRole",
                     {{"RoleName", std::string(65, 'a')}, {"AssumeRolePolicyDocument", kTrust}})),
            "InvalidParameter.RoleName.Length");
  EXPECT_EQ(code(ram("CreateRole", {{"RoleName", "x"}, {"AssumeRolePolicyDocument", "{nope"}})),
            "MalformedPolicyDocument");
  // A trust document needs a Principal.
  EXPECT_EQ(
      code(ram(
          "CreateRole",
          {{"RoleName", "x"},
           {"AssumeRolePolicyDocument",
            R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]})"}})),
      "MalformedPolicyDocument");
  EXPECT_EQ(code(ram("CreateRole", {{"RoleName", "x"}})), "MissingParameter");
  auto g = ram("GetRole", {{"RoleName", "missing-role"}});
  EXPECT_EQ(g.status, 404);
  EXPECT_EQ(code(g), "EntityNotExist.Role");
  EXPECT_EQ(code(ram("CreateRole", {{"RoleName", "y"},
                                    {"AssumeRolePolicyDocument", kTrust},
                                    {"MaxSessionDuration", "100"}})),
            "InvalidParameter.MaxSessionDuration");
}

TEST_F(RamTest, UpdateRoleReplacesTrustAndDeleteNeedsDetach) {
  create_role("r1");
  std::string new_trust =
      R"({"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":"*@ecs.aliyuncs.com"},"Condition":{"StringEquals":{"sts:ServiceOwnerRDId":"rd-abc123"}}}],"Version":"1"})";
  auto u = ram("UpdateRole", {{"RoleName", "R1"}, {"NewAssumeRolePolicyDocument", new_trust}});
  ASSERT_EQ(u.status, 200) << u.body.dump();
  EXPECT_EQ(json::parse(u.body["Role"]["AssumeRolePolicyDocument"].get<std::string>()),
            json::parse(new_trust));
  EXPECT_EQ(code(ram("UpdateRole", {{"RoleName", "r1"}, {"NewAssumeRolePolicyDocument", "[]"}})),
            "MalformedPolicyDocument");
  ASSERT_EQ(
      ram("AttachPolicyToRole",
          {{"PolicyType", "System"}, {"PolicyName", "AliyunKMSFullAccess"}, {"RoleName", "r1"}})
          .status,
      200);
  auto d = ram("DeleteRole", {{"RoleName", "r1"}});
  EXPECT_EQ(d.status, 409);
  EXPECT_EQ(code(d), "DeleteConflict.Role.Policy");
  ASSERT_EQ(
      ram("DetachPolicyFromRole",
          {{"PolicyType", "System"}, {"PolicyName", "AliyunKMSFullAccess"}, {"RoleName", "r1"}})
          .status,
      200);
  EXPECT_EQ(ram("DeleteRole", {{"RoleName", "r1"}}).status, 200);
  EXPECT_EQ(code(ram("GetRole", {{"RoleName", "r1"}})), "EntityNotExist.Role");
}

TEST_F(RamTest, ListRolesPagesWithMarkerAndHasNoTrustDocument) {
  for (int i = 0; i < 5; ++i) create_role("role-" + std::to_string(i));
  ASSERT_EQ(ram("TagResources", {{"ResourceType", "role"},
                                 {"ResourceNames", R"(["role-1","role-3"])"},
                                 {"Tag", R"([{"Key":"managed-by","Value":"sk"}])"}})
                .status,
            200);
  std::vector<std::string> names;
  std::string marker;
  int pages = 0;
  do {
    std::map<std::string, std::string> p{{"MaxItems", "3"}};
    if (!marker.empty()) p["Marker"] = marker;
    auto r = ram("ListRoles", p);
    ASSERT_EQ(r.status, 200) << r.body.dump();
    for (const auto& role : r.body["Roles"]["Role"]) {
      EXPECT_FALSE(role.contains("AssumeRolePolicyDocument"));
      names.push_back(role["RoleName"]);
    }
    marker = r.body["IsTruncated"].get<bool>() ? r.body["Marker"].get<std::string>() : "";
    EXPECT_EQ(r.body.contains("Marker"), r.body["IsTruncated"].get<bool>());
    ++pages;
  } while (!marker.empty());
  EXPECT_EQ(pages, 3);  // 2 seeded + 5 created = 7 roles
  EXPECT_EQ(names.size(), 7u);
  auto tagged = ram("ListRoles", {{"Tag", R"([{"Key":"managed-by","Value":"sk"}])"}});
  ASSERT_EQ(tagged.body["Roles"]["Role"].size(), 2u);
  EXPECT_EQ(tagged.body["Roles"]["Role"][0]["Tags"]["Tag"][0]["TagKey"], "managed-by");
  EXPECT_EQ(code(ram("ListRoles", {{"MaxItems", "1001"}})), "InvalidParameter.MaxItems");
}

TEST_F(RamTest, PolicyDocumentLengthLimitIs6144) {
  std::string base =
      R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":")";
  std::string tail = R"("}]})";
  std::string exact = base + std::string(6144 - base.size() - tail.size(), 'a') + tail;
  ASSERT_EQ(exact.size(), 6144u);
  EXPECT_EQ(ram("CreatePolicy", {{"PolicyName", "p-exact"}, {"PolicyDocument", exact}}).status,
            200);
  std::string over = base + std::string(6145 - base.size() - tail.size(), 'a') + tail;
  auto r = ram("CreatePolicy", {{"PolicyName", "p-over"}, {"PolicyDocument", over}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(code(r), "InvalidParameter.PolicyDocument.Length");
  EXPECT_EQ(code(ram("CreatePolicyVersion", {{"PolicyName", "p-exact"}, {"PolicyDocument", over}})),
            "InvalidParameter.PolicyDocument.Length");
}

TEST_F(RamTest, PolicyErrorsAndCanonicalNames) {
  create_policy("share-kms");
  EXPECT_EQ(
      code(ram("CreatePolicy", {{"PolicyName", "Share-KMS"}, {"PolicyDocument", kms_policy(1)}})),
      "EntityAlreadyExists.Policy");
  EXPECT_EQ(
      code(ram("CreatePolicy", {{"PolicyName", "has.dot"}, {"PolicyDocument", kms_policy(1)}})),
      "InvalidParameter.PolicyName.InvalidChars");
  EXPECT_EQ(code(ram("CreatePolicy",
                     {{"PolicyName", std::string(129, 'p')}, {"PolicyDocument", kms_policy(1)}})),
            "InvalidParameter.PolicyName.Length");
  EXPECT_EQ(
      code(ram(
          "CreatePolicy",
          {{"PolicyName", "p2"},
           {"PolicyDocument",
            R"({"Version":"1","Statement":[{"Effect":"Maybe","Action":"a","Resource":"*"}]})"}})),
      "MalformedPolicyDocument");
  EXPECT_EQ(code(ram("CreatePolicy",
                     {{"PolicyName", "p2"},
                      {"PolicyDocument",
                       R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"a"}]})"}})),
            "MalformedPolicyDocument");
  auto g = ram("GetPolicy", {{"PolicyName", "SHARE-kms"}, {"PolicyType", "Custom"}});
  ASSERT_EQ(g.status, 200) << g.body.dump();
  EXPECT_EQ(g.body["Policy"]["PolicyName"], "share-kms");
  EXPECT_EQ(g.body["DefaultPolicyVersion"]["PolicyDocument"], kms_policy(1));  // stored as sent
  EXPECT_EQ(g.body["DefaultPolicyVersion"]["VersionId"], "v1");
  EXPECT_EQ(code(ram("GetPolicy", {{"PolicyName", "share-kms"}, {"PolicyType", "System"}})),
            "EntityNotExist.Policy");
  EXPECT_EQ(code(ram("GetPolicy", {{"PolicyName", "share-kms"}})), "MissingParameter");
  // System policies exist, keep their own shapes, and answer in canonical case.
  auto s = ram("GetPolicy", {{"PolicyName", "aliyunkmsfullaccess"}, {"PolicyType", "System"}});
  ASSERT_EQ(s.status, 200);
  EXPECT_EQ(s.body["Policy"]["PolicyName"], "AliyunKMSFullAccess");
  EXPECT_EQ(s.body["Policy"]["PolicyType"], "System");
  auto all = ram("ListPolicies", {{"PolicyType", "Custom"}});
  ASSERT_EQ(all.body["Policies"]["Policy"].size(), 1u);
  EXPECT_EQ(all.body["Policies"]["Policy"][0]["PolicyName"], "share-kms");
}

TEST_F(RamTest, FiveVersionsRotateStrategyAndDefaults) {
  create_policy("p");
  for (int i = 2; i <= 5; ++i) {
    auto r = ram("CreatePolicyVersion", {{"PolicyName", "p"}, {"PolicyDocument", kms_policy(i)}});
    ASSERT_EQ(r.status, 200) << r.body.dump();
    EXPECT_EQ(r.body["PolicyVersion"]["VersionId"], "v" + std::to_string(i));
    EXPECT_EQ(r.body["PolicyVersion"]["IsDefaultVersion"], false);
  }
  auto full = ram("CreatePolicyVersion", {{"PolicyName", "p"}, {"PolicyDocument", kms_policy(6)}});
  EXPECT_EQ(full.status, 409);
  EXPECT_EQ(code(full), "LimitExceeded.Policy.Version");
  EXPECT_EQ(code(ram("CreatePolicyVersion", {{"PolicyName", "p"},
                                             {"PolicyDocument", kms_policy(6)},
                                             {"RotateStrategy", "Sometimes"}})),
            "InvalidParameter.RotateStrategy");
  // Make v2 the default: rotation then drops v1 (oldest non-default), then v3 (v2 is kept).
  ASSERT_EQ(ram("SetDefaultPolicyVersion", {{"PolicyName", "p"}, {"VersionId", "v2"}}).status, 200);
  auto rot = ram("CreatePolicyVersion",
                 {{"PolicyName", "p"},
                  {"PolicyDocument", kms_policy(6)},
                  {"RotateStrategy", "DeleteOldestNonDefaultVersionWhenLimitExceeded"}});
  ASSERT_EQ(rot.status, 200) << rot.body.dump();
  EXPECT_EQ(rot.body["PolicyVersion"]["VersionId"], "v6");
  auto rot2 = ram("CreatePolicyVersion",
                  {{"PolicyName", "p"},
                   {"PolicyDocument", kms_policy(7)},
                   {"SetAsDefault", "true"},
                   {"RotateStrategy", "DeleteOldestNonDefaultVersionWhenLimitExceeded"}});
  ASSERT_EQ(rot2.status, 200);
  EXPECT_EQ(rot2.body["PolicyVersion"]["IsDefaultVersion"], true);
  auto list = ram("ListPolicyVersions", {{"PolicyName", "p"}, {"PolicyType", "Custom"}});
  std::vector<std::string> ids;
  for (const auto& v : list.body["PolicyVersions"]["PolicyVersion"]) ids.push_back(v["VersionId"]);
  EXPECT_EQ(ids, (std::vector<std::string>{"v2", "v4", "v5", "v6", "v7"}));
  auto g = ram("GetPolicy", {{"PolicyName", "p"}, {"PolicyType", "Custom"}});
  EXPECT_EQ(g.body["Policy"]["DefaultVersion"], "v7");
  EXPECT_EQ(g.body["DefaultPolicyVersion"]["PolicyDocument"], kms_policy(7));
  auto v =
      ram("GetPolicyVersion", {{"PolicyName", "p"}, {"PolicyType", "Custom"}, {"VersionId", "v4"}});
  EXPECT_EQ(v.body["PolicyVersion"]["PolicyDocument"], kms_policy(4));
  EXPECT_EQ(code(ram("GetPolicyVersion",
                     {{"PolicyName", "p"}, {"PolicyType", "Custom"}, {"VersionId", "v1"}})),
            "EntityNotExist.Policy.Version");
  auto del_default = ram("DeletePolicyVersion", {{"PolicyName", "p"}, {"VersionId", "v7"}});
  EXPECT_EQ(del_default.status, 409);
  EXPECT_EQ(code(del_default), "DeleteConflict.Policy.Version.Default");
  EXPECT_EQ(ram("DeletePolicyVersion", {{"PolicyName", "p"}, {"VersionId", "v2"}}).status, 200);
  EXPECT_EQ(code(ram("SetDefaultPolicyVersion", {{"PolicyName", "p"}, {"VersionId", "v2"}})),
            "EntityNotExist.Policy.Version");
  // Non-default versions block DeletePolicy unless cascading.
  EXPECT_EQ(code(ram("DeletePolicy", {{"PolicyName", "p"}})), "DeleteConflict.Policy.Version");
  EXPECT_EQ(ram("DeletePolicy", {{"PolicyName", "p"}, {"CascadingDelete", "true"}}).status, 200);
  EXPECT_EQ(code(ram("GetPolicy", {{"PolicyName", "p"}, {"PolicyType", "Custom"}})),
            "EntityNotExist.Policy");
}

TEST_F(RamTest, AttachmentsLimitsAndListings) {
  create_role("r");
  for (int i = 1; i <= 6; ++i) create_policy("p" + std::to_string(i), i);
  for (int i = 1; i <= 5; ++i) {
    auto a =
        ram("AttachPolicyToRole",
            {{"PolicyType", "Custom"}, {"PolicyName", "P" + std::to_string(i)}, {"RoleName", "R"}});
    ASSERT_EQ(a.status, 200) << a.body.dump();
  }
  auto sixth = ram("AttachPolicyToRole",
                   {{"PolicyType", "Custom"}, {"PolicyName", "p6"}, {"RoleName", "r"}});
  EXPECT_EQ(sixth.status, 409);
  EXPECT_EQ(code(sixth), "LimitExceeded.Role.Policy");
  auto again = ram("AttachPolicyToRole",
                   {{"PolicyType", "Custom"}, {"PolicyName", "p1"}, {"RoleName", "r"}});
  EXPECT_EQ(code(again), "EntityAlreadyExists.Role.Policy");
  // System policies have their own quota.
  EXPECT_EQ(
      ram("AttachPolicyToRole",
          {{"PolicyType", "System"}, {"PolicyName", "AliyunKmsFullAccess"}, {"RoleName", "r"}})
          .status,
      200);
  auto list = ram("ListPoliciesForRole", {{"RoleName", "r"}});
  ASSERT_EQ(list.body["Policies"]["Policy"].size(), 6u);
  EXPECT_EQ(list.body["Policies"]["Policy"][5]["PolicyName"], "AliyunKMSFullAccess");
  EXPECT_EQ(list.body["Policies"]["Policy"][0]["DefaultVersion"], "v1");
  auto entities = ram("ListEntitiesForPolicy", {{"PolicyName", "p1"}, {"PolicyType", "Custom"}});
  ASSERT_EQ(entities.body["Roles"]["Role"].size(), 1u);
  EXPECT_EQ(entities.body["Roles"]["Role"][0]["RoleName"], "r");
  EXPECT_TRUE(entities.body["Users"]["User"].empty());
  auto g = ram("GetPolicy", {{"PolicyName", "p1"}, {"PolicyType", "Custom"}});
  EXPECT_EQ(g.body["Policy"]["AttachmentCount"], 1);
  EXPECT_EQ(code(ram("DeletePolicy", {{"PolicyName", "p1"}})), "DeleteConflict.Role.Policy");
  auto not_attached = ram("DetachPolicyFromRole",
                          {{"PolicyType", "Custom"}, {"PolicyName", "p6"}, {"RoleName", "r"}});
  EXPECT_EQ(not_attached.status, 404);
  EXPECT_EQ(code(not_attached), "EntityNotExist.Role.Policy");
  EXPECT_EQ(code(ram("AttachPolicyToRole",
                     {{"PolicyType", "Custom"}, {"PolicyName", "nope"}, {"RoleName", "r"}})),
            "EntityNotExist.Policy");
  EXPECT_EQ(code(ram("AttachPolicyToRole",
                     {{"PolicyType", "Custom"}, {"PolicyName", "p1"}, {"RoleName", "nope"}})),
            "EntityNotExist.Role");
  EXPECT_EQ(code(ram("ListPoliciesForRole", {{"RoleName", "nope"}})), "EntityNotExist.Role");
}

TEST_F(RamTest, TagResourcesUntagAndList) {
  create_role("r");
  create_policy("p");
  ASSERT_EQ(
      ram("TagResources",
          {{"ResourceType", "role"},
           {"ResourceNames", R"(["R"])"},
           {"Tag",
            R"([{"Key":"sharekeeper:managed-by","Value":"prod"},{"Key":"team","Value":"x"}])"}})
          .status,
      200);
  ASSERT_EQ(ram("TagResources", {{"ResourceType", "policy"},
                                 {"ResourceNames", R"(["p"])"},
                                 {"Tag", R"([{"Key":"sharekeeper:managed-by","Value":"prod"}])"}})
                .status,
            200);
  auto list = ram("ListTagResources", {{"ResourceType", "role"}, {"ResourceNames", R"(["r"])"}});
  ASSERT_EQ(list.status, 200) << list.body.dump();
  ASSERT_TRUE(list.body["TagResources"].is_array());  // bare array
  ASSERT_EQ(list.body["TagResources"].size(), 2u);
  EXPECT_EQ(list.body["TagResources"][0]["ResourceName"], "r");
  EXPECT_EQ(list.body["TagResources"][0]["TagKey"], "sharekeeper:managed-by");
  auto paged = ram("ListTagResources", {{"ResourceType", "role"}, {"PageSize", "1"}});
  ASSERT_EQ(paged.body["TagResources"].size(), 1u);
  ASSERT_TRUE(paged.body.contains("NextToken"));
  auto next = ram("ListTagResources", {{"ResourceType", "role"},
                                       {"PageSize", "1"},
                                       {"NextToken", paged.body["NextToken"].get<std::string>()}});
  EXPECT_EQ(next.body["TagResources"][0]["TagKey"], "team");
  EXPECT_FALSE(next.body.contains("NextToken"));
  ASSERT_EQ(
      ram("UntagResources",
          {{"ResourceType", "role"}, {"ResourceNames", R"(["r"])"}, {"TagKeys", R"(["team"])"}})
          .status,
      200);
  EXPECT_EQ(ram("ListTagResources", {{"ResourceType", "role"}}).body["TagResources"].size(), 1u);
  ASSERT_EQ(ram("UntagResources",
                {{"ResourceType", "policy"}, {"ResourceNames", R"(["p"])"}, {"All", "true"}})
                .status,
            200);
  EXPECT_TRUE(ram("ListTagResources", {{"ResourceType", "policy"}}).body["TagResources"].empty());
  EXPECT_EQ(code(ram("TagResources", {{"ResourceType", "user"},
                                      {"ResourceNames", R"(["r"])"},
                                      {"Tag", R"([{"Key":"a","Value":"b"}])"}})),
            "InvalidParameter.ResourceType");
  EXPECT_EQ(code(ram("TagResources", {{"ResourceType", "role"},
                                      {"ResourceNames", R"(["nope"])"},
                                      {"Tag", R"([{"Key":"a","Value":"b"}])"}})),
            "EntityNotExist.Role");
  EXPECT_EQ(code(ram("TagResources", {{"ResourceType", "role"},
                                      {"ResourceNames", "r"},
                                      {"Tag", R"([{"Key":"a","Value":"b"}])"}})),
            "InvalidParameter.ResourceNames");
  EXPECT_EQ(code(ram("TagResources", {{"ResourceType", "role"},
                                      {"ResourceNames", R"(["r"])"},
                                      {"Tag", R"([{"Key":"acs:x","Value":"b"}])"}})),
            "InvalidParameter.Tag");
  std::string many = "[";
  for (int i = 0; i < 21; ++i)
    many += std::string(i ? "," : "") + R"({"Key":"k)" + std::to_string(i) + R"(","Value":"v"})";
  many += "]";
  EXPECT_EQ(code(ram("TagResources",
                     {{"ResourceType", "role"}, {"ResourceNames", R"(["r"])"}, {"Tag", many}})),
            "InvalidParameter.Tag");
}

TEST(RamConsistency, CreatedRoleIsInvisibleDuringTheLag) {
  ModelOptions o;
  o.consistency_lag = std::chrono::milliseconds(500);
  Model m(o);
  m.load_seed(base_seed());
  auto t0 = Clock::now();
  auto at = [&](std::string action, std::map<std::string, std::string> p, Clock::time_point t) {
    ApiCall c;
    c.product = "ram";
    c.action = std::move(action);
    c.params = std::move(p);
    c.caller.account_uid = kSharer;
    c.caller.identity_type = "Account";
    c.now = t;
    return m.call(c);
  };
  ASSERT_EQ(
      at("CreateRole", {{"RoleName", "lagging"}, {"AssumeRolePolicyDocument", kTrust}}, t0).status,
      200);
  EXPECT_EQ(
      at("GetRole", {{"RoleName", "lagging"}}, t0 + std::chrono::milliseconds(100)).body["Code"],
      "EntityNotExist.Role");
  // ...but it already exists for a second create.
  EXPECT_EQ(at("CreateRole", {{"RoleName", "lagging"}, {"AssumeRolePolicyDocument", kTrust}}, t0)
                .body["Code"],
            "EntityAlreadyExists.Role");
  EXPECT_EQ(at("GetRole", {{"RoleName", "lagging"}}, t0 + std::chrono::milliseconds(500)).status,
            200);
}

}  // namespace
}  // namespace sharekeeper::emulator::testing

namespace sharekeeper::emulator::testing {
namespace {

TEST_F(RamTest, AccountLimitsAndDescriptionLength) {
  // The seed has 2 roles; the account limit is 1,000.
  for (int i = 0; i < 998; ++i) {
    ASSERT_EQ(ram("CreateRole",
                  {{"RoleName", "bulk-" + std::to_string(i)}, {"AssumeRolePolicyDocument", kTrust}})
                  .status,
              200);
  }
  auto over =
      ram("CreateRole", {{"RoleName", "one-too-many"}, {"AssumeRolePolicyDocument", kTrust}});
  EXPECT_EQ(over.status, 409);
  EXPECT_EQ(code(over), "LimitExceeded.Role");
  for (int i = 0; i < 1500; ++i) {
    ASSERT_EQ(ram("CreatePolicy",
                  {{"PolicyName", "bulk-" + std::to_string(i)}, {"PolicyDocument", kms_policy(i)}})
                  .status,
              200);
  }
  EXPECT_EQ(code(ram("CreatePolicy",
                     {{"PolicyName", "one-too-many"}, {"PolicyDocument", kms_policy(0)}})),
            "LimitExceeded.Policy");
  EXPECT_EQ(
      code(ram("UpdateRole", {{"RoleName", "bulk-1"}, {"NewDescription", std::string(1025, 'd')}})),
      "InvalidParameter.NewDescription.Length");
  EXPECT_EQ(code(ram("CreateRole", {{"RoleName", "d"},
                                    {"AssumeRolePolicyDocument", kTrust},
                                    {"Description", std::string(1025, 'd')}})),
            "InvalidParameter.Description.Length");
}

}  // namespace
}  // namespace sharekeeper::emulator::testing
