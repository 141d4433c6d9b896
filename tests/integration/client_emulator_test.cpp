// The AlibabaClient against sharekeeper-emulator in-process, over loopback TLS on port 0, through
// the real HttpsTransport: signatures verified by the emulator's gateway (V3 and V1, STS-free AK),
// RAM role and policy lifecycle with idempotent attach/detach, ECS image sharing past the
// 10-per-call limit read back over several pages, KMS, and an injected 503 that the client retries
// through.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
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
                                     {"aliases", json::array({"alias/client-emu"})}}})},
           {"snapshots",
            json::array(
                {{{"snapshotId", kImageSnap}, {"encrypted", false}, {"tags", json::object()}}})},
           {"images", json::array({{{"imageId", kImage},
                                    {"snapshotIds", json::array({kImageSnap})},
                                    {"tags", {{"share", "golden"}}}}})}}}}}});
  for (int i = 0; i < 12; ++i) {
    accounts.push_back(
        {{"uid", consumer(i)}, {"name", "c" + std::to_string(i)}, {"accessKeys", json::array()}});
  }
  return {{"accounts", accounts}};
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
