// The AlibabaClient against sharekeeper-emulator in-process, over loopback TLS on port 0, through
// the real HttpsTransport: signatures verified by the emulator's gateway (V3 and V1, STS-free AK),
// RAM role and policy lifecycle with idempotent attach/detach, ECS image sharing past the
// 10-per-call limit read back over several pages, encrypted-image sharing (AssumeRoleError, the 50
// cap), image tags, the Resource Sharing lifecycle the share driver runs (tags, chunks of 5, RD and
// external targets, asynchronous states, conflicts, update, delete, failure details, expired
// invitations), KMS, and an injected 503 that the client retries through.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "cloud/alibaba_client.hpp"
#include "cloud/credential_providers.hpp"
#include "cloud/endpoints.hpp"
#include "cloud/transport.hpp"
#include "emulator/emulator.hpp"

namespace sharekeeper {
namespace {

using nlohmann::json;

constexpr const char* kUid = "1234567890123456";
constexpr const char* kKeyId = "LTAI5tClientEmuKey0001";
constexpr const char* kSecret = "ClientEmuSecret0123456789abcdef";
constexpr const char* kRegion = "cn-hangzhou";
constexpr const char* kImage = "m-bp1clientemu000000001";
constexpr const char* kImageSnap = "s-bp1clientemu000000001";
constexpr const char* kKmsKey = "key-hzz6clientemu000001";
constexpr const char* kRole = "AliyunECSShareEncryptImageDefaultRole";
constexpr const char* kEncImage = "m-bp1clientemuenc00001";
constexpr const char* kEncSnap = "s-bp1clientemuenc00001";
constexpr const char* kSvcSnap = "s-bp1clientemusvc00001";
constexpr const char* kShanghai = "cn-shanghai";
constexpr const char* kShanghaiSnap = "s-uf6clientemush00001";
constexpr const char* kRd = "rd-clientemu1";
constexpr const char* kFolder = "fd-clientemu01";
constexpr int kConsumers = 51;  // one past the 50-accounts-per-image quota
constexpr int kInRd = 6;        // consumer(0..5) are members of the resource directory

std::string consumer(int i) {
  std::string digits = std::to_string(i);
  return "20000000000000" + std::string(2 - digits.size(), '0') + digits;
}

json seed() {
  json accounts = json::array();
  accounts.push_back(
      {{"uid", kUid},
       {"name", "owner"},
       {"accessKeys", json::array({{{"id", kKeyId}, {"secret", kSecret}}})},
       {"regions",
        {{kRegion,
          {{"kmsKeys", json::array({{{"keyId", kKmsKey},
                                     {"creator", kUid},
                                     {"state", "Enabled"},
                                     {"aliases", json::array({"alias/client-emu"})}},
                                    {{"keyId", "key-hzz6clientemusvc01"},
                                     {"creator", "Ecs"},
                                     {"aliases", json::array({"alias/acs/ecs"})}}})},
           {"snapshots",
            json::array(
                {{{"snapshotId", kImageSnap}, {"encrypted", false}, {"tags", json::object()}},
                 {{"snapshotId", kEncSnap}, {"encrypted", true}, {"kmsKeyId", kKmsKey}},
                 {{"snapshotId", kSvcSnap}, {"encrypted", true}}})},
           {"images",
            json::array({{{"imageId", kImage},
                          {"snapshotIds", json::array({kImageSnap})},
                          {"tags", {{"share", "golden"}}}},
                         {{"imageId", kEncImage}, {"snapshotIds", json::array({kEncSnap})}}})}}},
         {kShanghai,
          {{"snapshots",
            json::array({{{"snapshotId", kShanghaiSnap}, {"encrypted", false}}})}}}}}});
  json members = {{kUid, "r-clientemu"}};
  for (int i = 0; i < kConsumers; ++i) {
    accounts.push_back(
        {{"uid", consumer(i)}, {"name", "c" + std::to_string(i)}, {"accessKeys", json::array()}});
    if (i < kInRd) members[consumer(i)] = kFolder;
  }
  json rd = {{"id", kRd},
             {"rootFolderId", "r-clientemu"},
             {"folders", json::array({{{"id", kFolder}}})},
             {"accounts", members}};
  // A share someone made long ago: a service-key snapshot (Failed, a detail per target) and an
  // external invitation that expired.
  json shares =
      json::array({{{"resourceShareId", "rs-clientemu-old"},
                    {"owner", kUid},
                    {"region", kRegion},
                    {"name", "old"},
                    {"allowExternalTargets", true},
                    {"tags", {{"team", "legacy"}}},
                    {"resources", json::array({{{"type", "Snapshot"}, {"id", kSvcSnap}}})},
                    {"targets", json::array({consumer(0),
                                             {{"id", consumer(40)},
                                              {"invitation", "Pending"},
                                              {"invitedAt", "2020-01-01T00:00:00Z"}}})}}});
  return {{"accounts", accounts}, {"resourceDirectory", rd}, {"resourceShares", shares}};
}

std::shared_ptr<cloud::StaticCredentialsProvider> static_key() {
  cloud::Credentials c;
  c.access_key_id = kKeyId;
  c.access_key_secret = kSecret;
  c.provider = "static_ak";
  return std::make_shared<cloud::StaticCredentialsProvider>(std::move(c));
}

std::string trust(const std::vector<std::string>& uids) {
  json services = json::array();
  for (const auto& u : uids) services.push_back(u + "@ecs.aliyuncs.com");
  return json{{"Version", "1"},
              {"Statement", json::array({{{"Action", "sts:AssumeRole"},
                                          {"Effect", "Allow"},
                                          {"Principal", {{"Service", services}}}}})}}
      .dump();
}

class ClientEmulatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    emulator::EmulatorOptions eo;
    eo.seed = seed();
    eo.tls = emulator::TlsMode::kSelfSigned;
    // Resource Sharing settles a minute after each write: a test moves the emulated clock to go on
    // (inside the 15-minute signature window), never races a 200 ms delay.
    eo.model.association_delay = std::chrono::minutes(1);
    emu_ = std::make_unique<emulator::Emulator>(eo);
    emu_->start();

    ca_file_ = ::testing::TempDir() + "client_emulator_ca_" + std::to_string(emu_->port()) + ".pem";
    std::ofstream(ca_file_) << emu_->certificate_pem();
    cloud::TransportOptions to;
    to.ca_file = ca_file_;
    to.use_system_ca = false;  // trust the emulator's certificate and nothing else
    to.proxy = cloud::ProxySettings{};
    auto t = cloud::HttpsTransport::create(to);
    ASSERT_TRUE(t.ok()) << t.error().to_string();
    transport_ = std::shared_ptr<cloud::Transport>(std::move(*t));

    cloud::EndpointOptions ep;
    ep.override_all = emu_->url();
    auto resolver = cloud::EndpointResolver::create(ep);
    ASSERT_TRUE(resolver.ok());
    endpoints_ = std::make_shared<const cloud::EndpointResolver>(std::move(*resolver));
  }
  void TearDown() override {
    emu_->stop();
    std::remove(ca_file_.c_str());
  }

  std::unique_ptr<cloud::AlibabaClient> client(cloud::SignatureAlgorithm alg, int page_size = 100) {
    cloud::AlibabaClientOptions o;
    o.transport = transport_;
    o.credentials = static_key();
    o.endpoints = endpoints_;
    o.signature = alg;
    o.timeout = std::chrono::seconds(10);
    o.page_size = page_size;
    o.on_call = [this](std::string_view, std::string_view action, std::string_view code,
                       std::chrono::nanoseconds,
                       int) { calls_.push_back(std::string(action) + ":" + std::string(code)); };
    return std::make_unique<cloud::AlibabaClient>(std::move(o));
  }

  std::unique_ptr<emulator::Emulator> emu_;
  std::string ca_file_;
  std::shared_ptr<cloud::Transport> transport_;
  std::shared_ptr<const cloud::EndpointResolver> endpoints_;
  std::vector<std::string> calls_;
};

TEST_F(ClientEmulatorTest, CallerIdentityWithBothSignatures) {
  for (auto alg : {cloud::SignatureAlgorithm::kV3, cloud::SignatureAlgorithm::kV1}) {
    auto id = client(alg)->get_caller_identity();
    ASSERT_TRUE(id.ok()) << id.error().to_string();
    EXPECT_EQ(id->account_id, kUid);
  }
}

TEST_F(ClientEmulatorTest, RoleAndPolicyLifecycle) {
  auto c = client(cloud::SignatureAlgorithm::kV3);
  auto absent = c->get_role(kRole);
  ASSERT_TRUE(absent.ok()) << absent.error().to_string();
  EXPECT_FALSE(absent->has_value());

  auto created = c->create_role(kRole, trust({consumer(0)}), "share encrypted images",
                                {{"sharekeeper:managed-by", "t"}});
  ASSERT_TRUE(created.ok()) << created.error().to_string();
  EXPECT_EQ(created->role_name, kRole);
  auto again = c->create_role(kRole, trust({consumer(0)}), "", {});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().cls, cloud::ErrorClass::kConflict);

  auto updated = c->update_role_trust_policy(kRole, trust({consumer(0), consumer(1)}));
  ASSERT_TRUE(updated.ok()) << updated.error().to_string();
  auto got = c->get_role(kRole);
  ASSERT_TRUE(got.ok() && got->has_value());
  const json doc = json::parse((*got)->trust_policy);  // decoded twice: a JSON object, not a string
  EXPECT_NE(doc.dump().find(consumer(1) + "@ecs.aliyuncs.com"), std::string::npos);

  const std::string policy_doc =
      R"({"Version":"1","Statement":[{"Effect":"Allow","Action":["kms:DescribeKey"],"Resource":["acs:kms:cn-hangzhou:1234567890123456:key/k"]}]})";
  auto policy = c->create_policy("sharekeeper-kms-test", policy_doc, "test", {});
  ASSERT_TRUE(policy.ok()) << policy.error().to_string();
  ASSERT_TRUE(c->attach_policy_to_role("Custom", "sharekeeper-kms-test", kRole).ok());
  ASSERT_TRUE(
      c->attach_policy_to_role("Custom", "sharekeeper-kms-test", kRole).ok());  // already attached
  auto attached = c->list_policies_for_role(kRole);
  ASSERT_TRUE(attached.ok());
  ASSERT_EQ(attached->size(), 1u);
  EXPECT_EQ((*attached)[0].policy_name, "sharekeeper-kms-test");

  auto v2 = c->create_policy_version("sharekeeper-kms-test", policy_doc, true, true);
  ASSERT_TRUE(v2.ok()) << v2.error().to_string();
  EXPECT_EQ(v2->version_id, "v2");
  auto versions = c->list_policy_versions("sharekeeper-kms-test", "Custom");
  ASSERT_TRUE(versions.ok());
  EXPECT_EQ(versions->size(), 2u);
  auto fetched = c->get_policy("sharekeeper-kms-test", "Custom");
  ASSERT_TRUE(fetched.ok() && fetched->has_value());
  EXPECT_EQ(json::parse((*fetched)->default_document), json::parse(policy_doc));

  ASSERT_TRUE(c->tag_resources("role", {kRole}, {{"owner", "test"}}).ok());
  auto tags = c->list_tag_resources("role", {kRole});
  ASSERT_TRUE(tags.ok()) << tags.error().to_string();
  std::set<std::string> keys;
  for (const auto& t : *tags) keys.insert(t.key);
  EXPECT_TRUE(keys.contains("owner"));

  ASSERT_TRUE(c->detach_policy_from_role("Custom", "sharekeeper-kms-test", kRole).ok());
  ASSERT_TRUE(
      c->detach_policy_from_role("Custom", "sharekeeper-kms-test", kRole).ok());  // not attached
}

TEST_F(ClientEmulatorTest, GetRoleLoopOverOneKeptAliveConnection) {
  auto c = client(cloud::SignatureAlgorithm::kV3);
  ASSERT_TRUE(c->create_role(kRole, trust({consumer(0)}), "", {}).ok());
  for (int i = 0; i < 50; ++i) {
    auto r = c->get_role(kRole);
    ASSERT_TRUE(r.ok() && r->has_value()) << i;
  }
  auto* https = dynamic_cast<cloud::HttpsTransport*>(transport_.get());
  ASSERT_NE(https, nullptr);
  EXPECT_LE(https->stats().connections_opened, 2u);
}

TEST_F(ClientEmulatorTest, ImageSharingPastTenAccountsReadBackOverPages) {
  auto c = client(cloud::SignatureAlgorithm::kV3, /*page_size=*/5);
  std::vector<std::string> uids;
  for (int i = 0; i < 12; ++i) uids.push_back(consumer(i));
  auto shared = c->modify_image_share_permission(kRegion, kImage, uids, {});
  ASSERT_TRUE(shared.ok()) << shared.error().to_string();
  auto read = c->describe_image_share_permission(kRegion, kImage);
  ASSERT_TRUE(read.ok()) << read.error().to_string();
  EXPECT_EQ(std::set<std::string>(read->begin(), read->end()),
            std::set<std::string>(uids.begin(), uids.end()));

  auto removed = c->modify_image_share_permission(kRegion, kImage, {}, {consumer(3)});
  ASSERT_TRUE(removed.ok());
  read = c->describe_image_share_permission(kRegion, kImage);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->size(), 11u);

  auto images = c->describe_images(kRegion, {kImage}, {});
  ASSERT_TRUE(images.ok()) << images.error().to_string();
  ASSERT_EQ(images->size(), 1u);
  EXPECT_EQ((*images)[0].owner_id, kUid);
  ASSERT_FALSE((*images)[0].disks.empty());
  EXPECT_EQ((*images)[0].disks[0].snapshot_id, kImageSnap);

  auto snaps = c->describe_snapshots(kRegion, {kImageSnap}, {});
  ASSERT_TRUE(snaps.ok()) << snaps.error().to_string();
  ASSERT_EQ(snaps->size(), 1u);
  EXPECT_FALSE((*snaps)[0].encrypted);
}

TEST_F(ClientEmulatorTest, EncryptedImageNeedsTheTrustedRoleAndStopsAtFifty) {
  auto c = client(cloud::SignatureAlgorithm::kV3);
  auto refused = c->modify_image_share_permission(kRegion, kEncImage, {consumer(0)}, {});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "AssumeRoleError");
  EXPECT_EQ(refused.error().http_status, 403);
  EXPECT_EQ(refused.error().cls, cloud::ErrorClass::kTerminal);
  std::vector<std::string> all;
  for (int i = 0; i < kConsumers; ++i) all.push_back(consumer(i));
  ASSERT_TRUE(c->create_role(kRole, trust(all), "", {}).ok());
  // 51 accounts in one call: the client sends 6 requests of at most 10; the sixth is refused by the
  // quota and the error is returned (a caller that must not share partially checks the count
  // first).
  auto over = c->modify_image_share_permission(kRegion, kEncImage, all, {});
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code, "QuotaExceed.ShareImageUser");
  EXPECT_EQ(over.error().cls, cloud::ErrorClass::kTerminal);
  auto read = c->describe_image_share_permission(kRegion, kEncImage);
  ASSERT_TRUE(read.ok()) << read.error().to_string();
  EXPECT_EQ(read->size(), 50u);
  EXPECT_EQ(std::count(calls_.begin(), calls_.end(), "ModifyImageSharePermission:OK"), 1 + 5 - 1)
      << "the AssumeRoleError call, then five accepted requests";
  auto svc = c->modify_image_share_permission(kRegion, kImage, {kUid}, {});
  EXPECT_EQ(svc.error().code, "InvalidAccount.Forbbiden");
}

TEST_F(ClientEmulatorTest, ImageTagsWrittenAndSelected) {
  auto c = client(cloud::SignatureAlgorithm::kV1);
  const std::vector<cloud::Tag> owned{{"sharekeeper:managed-by", "client-emu"}};
  ASSERT_TRUE(c->tag_ecs_resources(kRegion, "image", {kImage, kEncImage}, owned).ok());
  auto tagged = c->describe_images(kRegion, {}, owned);
  ASSERT_TRUE(tagged.ok()) << tagged.error().to_string();
  std::set<std::string> ids;
  for (const auto& i : *tagged) ids.insert(i.image_id);
  EXPECT_EQ(ids, (std::set<std::string>{kImage, kEncImage}));
  auto one = c->describe_images(kRegion, {kImage}, {});
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->at(0).tags, (std::vector<cloud::Tag>{{"share", "golden"},
                                                      {"sharekeeper:managed-by", "client-emu"}}));
  ASSERT_TRUE(
      c->untag_ecs_resources(kRegion, "image", {kEncImage}, {"sharekeeper:managed-by"}).ok());
  tagged = c->describe_images(kRegion, {}, owned);
  ASSERT_TRUE(tagged.ok());
  ASSERT_EQ(tagged->size(), 1u);
  auto missing = c->tag_ecs_resources(kRegion, "image", {"m-bp1doesnotexist0001"}, owned);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, "InvalidResourceId.NotFound");
}

TEST_F(ClientEmulatorTest, ResourceSharingLifecycleThroughTheClient) {
  auto c = client(cloud::SignatureAlgorithm::kV3, /*page_size=*/2);
  const std::vector<cloud::Tag> owned{{"sharekeeper:managed-by", "client-emu"}};
  // Seven targets: six RD members and one account outside the RD; the first five travel with the
  // create, the other two are associated by a second request.
  std::vector<std::string> targets;
  for (int i = 0; i < 7; ++i) targets.push_back(i == 6 ? consumer(30) : consumer(i));
  auto share =
      c->create_resource_share(kRegion, "golden-snapshots",
                               {{"Snapshot", kEncSnap}, {"Image", kImage}}, targets, true, owned);
  ASSERT_TRUE(share.ok()) << share.error().to_string();
  const std::string id = share->resource_share_id;
  EXPECT_EQ(share->tags, owned);
  EXPECT_EQ(std::count(calls_.begin(), calls_.end(), "AssociateResourceShare:OK"), 1);

  auto listed = c->list_resource_shares(kRegion, {.tags = owned});
  ASSERT_TRUE(listed.ok()) << listed.error().to_string();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->at(0).resource_share_id, id);
  EXPECT_EQ(listed->at(0).tags, owned);
  EXPECT_EQ(listed->at(0).resource_share_owner, kUid);
  EXPECT_EQ(listed->at(0).resource_share_status, "Active");

  auto status_of = [&](const std::string& type) {
    std::map<std::string, cloud::ResourceShareAssociation> out;
    auto l = c->list_resource_share_associations(kRegion, type, {id});
    EXPECT_TRUE(l.ok()) << l.error().to_string();
    if (l.ok())
      for (auto& a : *l) out[a.entity_id] = a;
    return out;
  };
  auto early = status_of("Target");
  ASSERT_EQ(early.size(), 7u) << "read over pages of 2";
  EXPECT_EQ(early[consumer(0)].association_status, "Associating");
  EXPECT_FALSE(early[consumer(0)].external);
  EXPECT_TRUE(early[consumer(30)].external);
  // Still associating: cannot be taken back yet.
  auto conflict = c->disassociate_resource_share(kRegion, id, {}, {consumer(1)});
  ASSERT_FALSE(conflict.ok());
  EXPECT_EQ(conflict.error().code, "DisassociateConflict");
  EXPECT_EQ(conflict.error().cls, cloud::ErrorClass::kConflict);

  emu_->server().clock().set_offset(std::chrono::seconds(61));
  auto settled = status_of("Target");
  for (int i = 0; i < kInRd; ++i) EXPECT_EQ(settled[consumer(i)].association_status, "Associated");
  EXPECT_EQ(settled[consumer(30)].association_status, "Associating");
  EXPECT_NE(settled[consumer(30)].association_status_message.find("invitation"), std::string::npos);
  EXPECT_EQ(status_of("Resource")[kEncSnap].association_status, "Associated");

  // Six targets back out: two requests; the pending invitation is withdrawn.
  std::vector<std::string> leaving(targets.begin() + 1, targets.end());
  auto gone = c->disassociate_resource_share(kRegion, id, {}, leaving);
  ASSERT_TRUE(gone.ok()) << gone.error().to_string();
  EXPECT_EQ(gone->size(), 6u);
  for (const auto& a : *gone) EXPECT_EQ(a.association_status, "Disassociating");
  auto back = c->associate_resource_share(kRegion, id, {}, {consumer(1)});
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.error().code, "AssociateConflict");
  emu_->server().clock().set_offset(std::chrono::seconds(122));
  EXPECT_EQ(status_of("Target")[consumer(1)].association_status, "Disassociated");

  auto renamed = c->update_resource_share(kRegion, id, "golden-renamed", false);
  ASSERT_TRUE(renamed.ok()) << renamed.error().to_string();
  EXPECT_EQ(renamed->resource_share_name, "golden-renamed");
  EXPECT_FALSE(renamed->allow_external_targets);
  auto refused = c->associate_resource_share(kRegion, id, {}, {consumer(31)});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "InvalidTarget");

  ASSERT_TRUE(c->delete_resource_share(kRegion, id).ok());
  EXPECT_EQ(
      c->list_resource_shares(kRegion, {.resource_share_ids = {id}})->at(0).resource_share_status,
      "Deleting");
  emu_->server().clock().set_offset(std::chrono::seconds(183));
  auto deleted = c->list_resource_shares(kRegion, {.status = "Deleted"});
  ASSERT_TRUE(deleted.ok());
  ASSERT_EQ(deleted->size(), 1u);
  EXPECT_EQ(status_of("Target")[consumer(0)].association_status, "Disassociated");
  EXPECT_TRUE(c->delete_resource_share(kRegion, id).ok()) << "already deleted";
  EXPECT_TRUE(c->delete_resource_share(kRegion, "rs-clientemu-none").ok()) << "absent";
}

// Resource Sharing calls carry no RegionId (ResourceSharing 2020-01-10 metadata): the region is the
// regional endpoint's host. Through one override address for both regions, the client's Host header
// still names resourcesharing.<region>.aliyuncs.com, so a share made in Shanghai is Shanghai's
// only.
TEST_F(ClientEmulatorTest, ResourceShareIsListedOnlyInItsRegionThroughTheOverride) {
  auto c = client(cloud::SignatureAlgorithm::kV3);
  const std::vector<cloud::Tag> owned{{"sharekeeper:managed-by", "client-emu-regions"}};
  auto share = c->create_resource_share(kShanghai, "shanghai-snapshots",
                                        {{"Snapshot", kShanghaiSnap}}, {consumer(1)}, false, owned);
  ASSERT_TRUE(share.ok()) << share.error().to_string();
  const std::string id = share->resource_share_id;

  auto shanghai = c->list_resource_shares(kShanghai, {.tags = owned});
  ASSERT_TRUE(shanghai.ok()) << shanghai.error().to_string();
  ASSERT_EQ(shanghai->size(), 1u);
  EXPECT_EQ(shanghai->at(0).resource_share_id, id);
  auto hangzhou = c->list_resource_shares(kRegion, {.tags = owned});
  ASSERT_TRUE(hangzhou.ok()) << hangzhou.error().to_string();
  EXPECT_TRUE(hangzhou->empty());

  for (const char* type : {"Resource", "Target"}) {
    auto in_hangzhou = c->list_resource_share_associations(kRegion, type, {id});
    ASSERT_TRUE(in_hangzhou.ok()) << in_hangzhou.error().to_string();
    EXPECT_TRUE(in_hangzhou->empty()) << type;
    auto in_shanghai = c->list_resource_share_associations(kShanghai, type, {id});
    ASSERT_TRUE(in_shanghai.ok()) << in_shanghai.error().to_string();
    EXPECT_EQ(in_shanghai->size(), 1u) << type;
  }
  // And the Hangzhou listing of every share the account owns does not see it either.
  auto all_hangzhou = c->list_resource_shares(kRegion, {});
  ASSERT_TRUE(all_hangzhou.ok()) << all_hangzhou.error().to_string();
  for (const auto& s : *all_hangzhou) EXPECT_NE(s.resource_share_id, id);
}

TEST_F(ClientEmulatorTest, SeededShareFailureDetailsAndExpiredInvitation) {
  auto c = client(cloud::SignatureAlgorithm::kV1);
  auto shares = c->list_resource_shares(kRegion, {.tags = {{"team", "legacy"}}});
  ASSERT_TRUE(shares.ok()) << shares.error().to_string();
  ASSERT_EQ(shares->size(), 1u);
  EXPECT_EQ(shares->at(0).resource_share_id, "rs-clientemu-old");
  auto resources = c->list_resource_share_associations(kRegion, "Resource", {"rs-clientemu-old"});
  ASSERT_TRUE(resources.ok()) << resources.error().to_string();
  ASSERT_EQ(resources->size(), 1u);
  const auto& r = resources->at(0);
  EXPECT_EQ(r.association_status, "Failed");
  std::set<std::string> failed_for;
  for (const auto& f : r.failures) {
    EXPECT_EQ(f.failure_reason, "UnsupportedOperation");
    EXPECT_EQ(f.operation_type, "Associate");
    failed_for.insert(f.entity_id);
  }
  EXPECT_TRUE(failed_for.contains(consumer(0))) << "one detail per target";
  auto targets = c->list_resource_share_associations(kRegion, "Target", {"rs-clientemu-old"});
  ASSERT_TRUE(targets.ok());
  for (const auto& t : *targets) {
    if (t.entity_id != consumer(40)) continue;
    EXPECT_TRUE(t.external);
    EXPECT_EQ(t.association_status, "Failed");
    EXPECT_NE(t.association_status_message.find("expired"), std::string::npos);
  }
}

TEST_F(ClientEmulatorTest, KmsKeyAndAliases) {
  auto c = client(cloud::SignatureAlgorithm::kV3);
  auto key = c->describe_key(kRegion, kKmsKey);
  ASSERT_TRUE(key.ok()) << key.error().to_string();
  ASSERT_TRUE(key->has_value());
  EXPECT_EQ((*key)->creator, kUid);
  EXPECT_EQ((*key)->key_state, "Enabled");
  auto missing = c->describe_key(kRegion, "key-does-not-exist");
  ASSERT_TRUE(missing.ok()) << missing.error().to_string();
  EXPECT_FALSE(missing->has_value());
  auto aliases = c->list_aliases_by_key_id(kRegion, kKmsKey);
  ASSERT_TRUE(aliases.ok());
  EXPECT_EQ(*aliases, std::vector<std::string>{"alias/client-emu"});
}

// ResourceManager (docs/alibaba-api.md §13): the owner manages the seed's directory (its first
// member); ListAccounts is read over every page, each member with its path.
TEST_F(ClientEmulatorTest, ResourceDirectoryMembersReadBackOverPages) {
  for (auto alg : {cloud::SignatureAlgorithm::kV3, cloud::SignatureAlgorithm::kV1}) {
    calls_.clear();
    auto c = client(alg, /*page_size=*/2);
    auto rd = c->get_resource_directory();
    ASSERT_TRUE(rd.ok()) << rd.error().to_string();
    ASSERT_TRUE(rd->has_value());
    EXPECT_EQ((*rd)->resource_directory_id, kRd);
    EXPECT_EQ((*rd)->root_folder_id, "r-clientemu");
    EXPECT_EQ((*rd)->master_account_id, kUid);
    auto members = c->list_directory_accounts();
    ASSERT_TRUE(members.ok()) << members.error().to_string();
    ASSERT_EQ(members->size(), static_cast<std::size_t>(kInRd + 1));
    std::map<std::string, std::string> paths;
    for (const auto& m : *members) paths[m.account_id] = m.resource_directory_path;
    EXPECT_EQ(paths[kUid], std::string(kRd) + "/r-clientemu/" + kUid);
    EXPECT_EQ(paths[consumer(3)], std::string(kRd) + "/r-clientemu/" + kFolder + "/" + consumer(3));
    // 7 members, 2 a page: 4 pages.
    EXPECT_EQ(std::count(calls_.begin(), calls_.end(), "ListAccounts:OK"), 4) << calls_.size();
  }
}

TEST_F(ClientEmulatorTest, RetriesAnInjected503) {
  emu_->server().faults().add(json{{"action", "GetCallerIdentity"},
                                   {"nth", 1u},
                                   {"code", "ServiceUnavailable"},
                                   {"status", 503}});
  auto c = client(cloud::SignatureAlgorithm::kV3);
  auto id = c->get_caller_identity();
  ASSERT_TRUE(id.ok()) << id.error().to_string();
  EXPECT_EQ(calls_, (std::vector<std::string>{"GetCallerIdentity:ServiceUnavailable",
                                              "GetCallerIdentity:OK"}));
}

TEST_F(ClientEmulatorTest, WrongSecretIsTerminalAndRedacted) {
  class WrongKey final : public cloud::CredentialsProvider {
   public:
    cloud::Result<cloud::Credentials> get() override {
      cloud::Credentials c;
      c.access_key_id = kKeyId;
      c.access_key_secret = "WrongSecretCanary0123456789";
      return c;
    }
    std::string name() const override { return "wrong"; }
  };
  cloud::AlibabaClientOptions o;
  o.transport = transport_;
  o.credentials = std::make_shared<WrongKey>();
  o.endpoints = endpoints_;
  o.signature = cloud::SignatureAlgorithm::kV1;  // V1 errors quote the server's string to sign
  cloud::AlibabaClient c(std::move(o));
  auto r = c.get_role(kRole);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "SignatureDoesNotMatch");
  EXPECT_EQ(r.error().cls, cloud::ErrorClass::kTerminal);
  EXPECT_EQ(r.error().to_string().find("WrongSecretCanary0123456789"), std::string::npos);
}

}  // namespace
}  // namespace sharekeeper
