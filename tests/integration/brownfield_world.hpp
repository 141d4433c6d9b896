#pragma once
// The brownfield world of issue 16 (an emulator seed): everything shared by hand before sharekeeper
// (roles with extra principals, KMS policies a person made, images shared in two regions, resource
// shares not ours to an account, a folder and the directory, an image whose key no policy grants).
// Used by reconcile_adopt_test.cpp (in-process) and daemon_status_access.cpp (processes).
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace sharekeeper::testing::brownfield {

using nlohmann::json;

inline constexpr const char* kKeyId = "LTAI5tBrownfieldKey001";
inline constexpr const char* kSecret = "BrownfieldSecret0123456789abcd";

inline constexpr const char* kUid = "1234567890123456";
inline constexpr const char* kA = "1111222233334444";  // in the RD, folder fd-0123456789
inline constexpr const char* kB = "5555666677778888";  // in the RD, folder fd-klmnopqrst
inline constexpr const char* kC = "2222333344445555";  // outside the RD
inline constexpr const char* kFolder = "rd-abc123/r-ab12cd/fd-abcdefghij";

inline std::string kms_doc(const std::vector<std::pair<std::string, std::string>>& keys) {
  json st = json::array();
  for (const auto& [region, key] : keys) {
    st.push_back({{"Effect", "Allow"},
                  {"Action", json::array({"kms:List*"})},
                  {"Resource", json::array({"acs:kms:" + region + ":" + kUid + ":key"})}});
    st.push_back(
        {{"Effect", "Allow"},
         {"Action", json::array({"kms:DescribeKey", "kms:Encrypt", "kms:Decrypt",
                                 "kms:GenerateDataKey", "kms:TagResource", "kms:UntagResource"})},
         {"Resource", json::array({"acs:kms:" + region + ":" + kUid + ":key/" + key})}});
  }
  return json({{"Version", "1"}, {"Statement", st}}).dump();
}

inline json trust(const std::vector<std::string>& accounts, const std::string& rd,
                  const std::vector<std::string>& folders) {
  json st = json::array();
  json services = json::array();
  for (const auto& a : accounts) services.push_back(a + "@ecs.aliyuncs.com");
  if (!accounts.empty())
    st.push_back({{"Effect", "Allow"},
                  {"Action", "sts:AssumeRole"},
                  {"Principal", {{"Service", services}}}});
  if (!rd.empty())
    st.push_back({{"Effect", "Allow"},
                  {"Action", "sts:AssumeRole"},
                  {"Principal", {{"Service", json::array({"*@ecs.aliyuncs.com"})}}},
                  {"Condition", {{"StringEquals", {{"sts:ServiceOwnerRDId", rd}}}}}});
  if (!folders.empty()) {
    json paths = json::array();
    for (const auto& f : folders) paths.push_back(f + "*");
    st.push_back({{"Effect", "Allow"},
                  {"Action", "sts:AssumeRole"},
                  {"Principal", {{"Service", json::array({"*@ecs.aliyuncs.com"})}}},
                  {"Condition", {{"StringLike", {{"sts:ServiceOwnerRDPath", paths}}}}}});
  }
  return {{"Version", "1"}, {"Statement", st}};
}

inline json snapshot(const std::string& id, const std::string& key, const std::string& name = "") {
  json s = {{"snapshotId", id}, {"encrypted", !key.empty()}};
  if (!key.empty()) s["kmsKeyId"] = key;
  if (!name.empty()) s["tags"] = {{"Name", name}};
  return s;
}

inline json image(const std::string& id, const std::string& disk, const std::string& name,
                  const std::vector<std::string>& shared_with) {
  json i = {{"imageId", id}, {"snapshotIds", json::array({disk})}, {"sharedWith", shared_with}};
  if (!name.empty()) i["tags"] = {{"Name", name}};
  return i;
}

// The brownfield world: everything shared by hand before sharekeeper.
inline json brownfield_seed() {
  json prod = {
      {"uid", kUid},
      {"name", "prod"},
      {"accessKeys", json::array({{{"id", "LTAI5tBrownfieldKey001"},
                                   {"secret", "BrownfieldSecret0123456789abcd"}}})},
      {"policies",
       json::array({{{"name", "ops-image-kms"},
                     {"document", kms_doc({{"cn-hangzhou", "key-hzbrown0000000000001"},
                                           {"cn-shanghai", "key-shbrown0000000000001"}})}},
                    {{"name", "ops-snapshot-kms"},
                     {"document", kms_doc({{"cn-hangzhou", "key-hzbrown0000000000002"}})}}})},
      {"roles",
       json::array({{{"name", "AliyunECSDiskEncryptDefaultRole"},
                     {"trustPolicy", json::parse(R"({"Version":"1","Statement":[{"Effect":"Allow",
                "Action":"sts:AssumeRole","Principal":{"Service":["ecs.aliyuncs.com"]}}]})")},
                     {"policies", json::array({{{"name", "AliyunECSDiskEncryptRolePolicy"},
                                                {"type", "System"}}})}},
                    // Trusts C too, with nothing shared to it: an extra principal.
                    {{"name", "AliyunECSShareEncryptImageDefaultRole"},
                     {"trustPolicy", trust({kA, kB, kC}, "", {})},
                     {"policies", json::array({"ops-image-kms"})}},
                    {{"name", "AliyunECSShareEncryptSnapshotDefaultRole"},
                     {"trustPolicy", trust({kA}, "rd-abc123", {kFolder})},
                     {"policies", json::array({"ops-snapshot-kms"})}}})},
      {"regions",
       {{"cn-hangzhou",
         {{"kmsKeys", json::array({{{"keyId", "key-hzbrown0000000000001"}},
                                   {{"keyId", "key-hzbrown0000000000002"}},
                                   {{"keyId", "key-hzbrown0000000000003"}}})},
          {"snapshots",
           json::array({snapshot("s-bp1browngolden00001", "key-hzbrown0000000000001"),
                        snapshot("s-bp1browntools000001", "key-hzbrown0000000000001"),
                        snapshot("s-bp1brownnokey000001", "key-hzbrown0000000000003"),
                        snapshot("s-bp1brownforensic001", "key-hzbrown0000000000002", "forensics"),
                        snapshot("s-bp1brownaudit000001", "key-hzbrown0000000000002", "audit"),
                        snapshot("s-bp1brownplain000001", "", "plain")})},
          {"images",
           json::array({image("m-bp1browngolden00001", "s-bp1browngolden00001", "golden", {kA, kB}),
                        image("m-bp1browntools000001", "s-bp1browntools000001", "tools", {kA, kB}),
                        // Shared, but no policy grants its key: import leaves it as a comment.
                        image("m-bp1brownnokey000001", "s-bp1brownnokey000001", "nokey", {kA})})}}},
        {"cn-shanghai",
         {{"kmsKeys", json::array({{{"keyId", "key-shbrown0000000000001"}}})},
          {"snapshots",
           json::array({snapshot("s-sh1brownbase0000001", "key-shbrown0000000000001")})},
          {"images", json::array({image("m-sh1brownbase0000001", "s-sh1brownbase0000001", "base-sh",
                                        {kB})})}}}}}};
  json accounts = json::array({prod});
  for (const char* uid : {kA, kB, kC})
    accounts.push_back(
        {{"uid", uid}, {"name", std::string("c") + uid}, {"accessKeys", json::array()}});
  json rd = {{"id", "rd-abc123"},
             {"rootFolderId", "r-ab12cd"},
             {"folders", json::array({{{"id", "fd-0123456789"}, {"parentId", "r-ab12cd"}},
                                      {{"id", "fd-abcdefghij"}, {"parentId", "r-ab12cd"}},
                                      {{"id", "fd-klmnopqrst"}, {"parentId", "fd-abcdefghij"}}})},
             {"accounts", {{kUid, "r-ab12cd"}, {kA, "fd-0123456789"}, {kB, "fd-klmnopqrst"}}}};
  // Resource shares a person made (untagged: not ours).
  json shares = json::array(
      {{{"owner", kUid},
        {"region", "cn-hangzhou"},
        {"name", "ops-forensics"},
        {"resources", json::array({{{"type", "Snapshot"}, {"id", "s-bp1brownforensic001"}}})},
        {"targets", json::array({kA, "fd-abcdefghij"})}},
       {{"owner", kUid},
        {"region", "cn-hangzhou"},
        {"name", "ops-audit"},
        {"resources", json::array({{{"type", "Snapshot"}, {"id", "s-bp1brownaudit000001"}},
                                   {{"type", "Snapshot"}, {"id", "s-bp1brownplain000001"}}})},
        {"targets", json::array({"rd-abc123"})}}});
  return {{"accounts", accounts}, {"resourceDirectory", rd}, {"resourceShares", shares}};
}

}  // namespace sharekeeper::testing::brownfield
