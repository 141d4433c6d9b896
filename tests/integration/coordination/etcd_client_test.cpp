// EtcdClient against a real etcd (started by the test on loopback): leases, the create-if-absent
// and delete-if-created-at transactions, binary-safe keys, failover, deadlines when etcd hangs or
// is gone, authentication and mutual TLS.
#include "coordination/etcd_client.hpp"

#include <gtest/gtest.h>

#include "cloud/transport.hpp"
#include "etcd_server.hpp"

namespace sharekeeper::coordination {
namespace {

using namespace std::chrono_literals;
using testing::EtcdServer;
using testing::TestPki;

std::unique_ptr<EtcdClient> client_for(std::vector<std::string> endpoints, EtcdTlsOptions tls = {},
                                       std::string user = {}, std::string password = {},
                                       Millis timeout = 2000ms) {
  for (const auto& e : endpoints)
    if (e.starts_with("http://")) tls.allow_http = true;
  auto t = make_etcd_transport(tls);
  EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.error().to_string());
  if (!t.ok()) return nullptr;
  EtcdClientOptions o;
  o.endpoints = std::move(endpoints);
  o.timeout = timeout;
  o.username = std::move(user);
  o.password = std::move(password);
  auto c = EtcdClient::create(std::move(o), t.value());
  EXPECT_TRUE(c.ok());
  return c.ok() ? std::move(c.value()) : nullptr;
}

class EtcdClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SK_REQUIRE_ETCD();
    etcd_ = std::make_unique<EtcdServer>(dir_.path / "etcd");
    client_ = client_for({etcd_->endpoint()});
    ASSERT_TRUE(client_);
  }
  daemon::testing::TempDir dir_;
  std::unique_ptr<EtcdServer> etcd_;
  std::unique_ptr<EtcdClient> client_;
};

TEST_F(EtcdClientTest, GrantRenewAndRevokeALease) {
  auto g = client_->grant(5s);
  ASSERT_TRUE(g.ok()) << g.error().to_string();
  EXPECT_NE(g->id, 0);
  EXPECT_EQ(g->ttl, 5s);
  auto k = client_->keepalive(g->id);
  ASSERT_TRUE(k.ok()) << k.error().to_string();
  EXPECT_EQ(*k, 5s);
  ASSERT_TRUE(client_->revoke(g->id).ok());
  // A lease etcd no longer knows: the gateway leaves TTL out, which means 0.
  k = client_->keepalive(g->id);
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(*k, 0s);
  EXPECT_TRUE(client_->revoke(g->id).ok()) << "revoking twice is not an error";
  // etcd raises TTLs below its minimum.
  auto tiny = client_->grant(1s);
  ASSERT_TRUE(tiny.ok());
  EXPECT_GE(tiny->ttl, 2s);
}

TEST_F(EtcdClientTest, CreateIfAbsentAndDeleteIfCreatedAtAreAtomic) {
  auto lease = client_->grant(30s);
  ASSERT_TRUE(lease.ok());
  auto first = client_->create_if_absent("/sk/owners/prod", "replica-a", lease->id);
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  EXPECT_TRUE(first->created);
  EXPECT_GT(first->revision, 0);
  auto second = client_->create_if_absent("/sk/owners/prod", "replica-b", 0);
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->created);
  ASSERT_TRUE(second->existing.has_value());
  EXPECT_EQ(second->existing->value, "replica-a");
  EXPECT_EQ(second->existing->lease, lease->id);
  EXPECT_EQ(second->existing->create_revision, first->revision);
  // Another incarnation of the key is never deleted by mistake.
  auto wrong = client_->delete_if_created_at("/sk/owners/prod", first->revision + 100);
  ASSERT_TRUE(wrong.ok());
  EXPECT_FALSE(*wrong);
  auto right = client_->delete_if_created_at("/sk/owners/prod", first->revision);
  ASSERT_TRUE(right.ok());
  EXPECT_TRUE(*right);
  auto gone = client_->delete_if_created_at("/sk/owners/prod", first->revision);
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(*gone);
  EXPECT_TRUE(client_->range("/sk/", "/sk0")->kvs.empty());
  // A txn under a lease etcd does not know fails as a value.
  auto bad = client_->create_if_absent("/sk/owners/dev", "x", 12345);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "Etcd.NotFound") << bad.error().to_string();
}

TEST_F(EtcdClientTest, KeysBoundToALeaseVanishWhenItExpires) {
  auto lease = client_->grant(2s);
  ASSERT_TRUE(lease.ok());
  ASSERT_TRUE(client_->create_if_absent("/sk/members/a", "a", lease->id)->created);
  EXPECT_EQ(client_->range("/sk/", "/sk0")->kvs.size(), 1u);
  ASSERT_TRUE(daemon::testing::eventually(
      [&] {
        auto r = client_->range("/sk/", "/sk0");
        return r.ok() && r->kvs.empty();
      },
      10s));
  EXPECT_EQ(*client_->keepalive(lease->id), 0s);
}

TEST_F(EtcdClientTest, RangesAreBinarySafeAndBounded) {
  const std::string odd("v\0\xff/\"\n", 6);
  ASSERT_TRUE(client_->put("/sk/members/x", odd).ok());
  ASSERT_TRUE(client_->put("/sk/owners/a", "1").ok());
  ASSERT_TRUE(client_->put("/sk0", "outside").ok());
  ASSERT_TRUE(client_->put("/sk", "outside too").ok());
  auto r = client_->range("/sk/", "/sk0");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r->kvs.size(), 2u);
  EXPECT_EQ(r->kvs[0].key, "/sk/members/x");
  EXPECT_EQ(r->kvs[0].value, odd);
  EXPECT_EQ(r->kvs[0].lease, 0);
  EXPECT_GT(r->revision, 0);
  auto one = client_->range("/sk/owners/a");
  ASSERT_EQ(one->kvs.size(), 1u);
  EXPECT_EQ(client_->delete_range("/sk/", "/sk0").value(), 2);
}

TEST_F(EtcdClientTest, ADeadEndpointIsSkippedWithinTheSameDeadline) {
  const std::string dead = "http://127.0.0.1:" + std::to_string(testing::free_port());
  auto c = client_for({dead, etcd_->endpoint()});
  auto g = c->grant(5s);
  ASSERT_TRUE(g.ok()) << g.error().to_string();
  EXPECT_EQ(c->current_endpoint(), etcd_->endpoint());
  auto only_dead = client_for({dead});
  auto e = only_dead->grant(5s);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().code, "Transport.Connect") << e.error().to_string();
  EXPECT_EQ(e.error().product, "etcd");
}

TEST_F(EtcdClientTest, AHungEtcdFailsTheCallAtItsDeadline) {
  auto c = client_for({etcd_->endpoint()}, {}, {}, {}, 700ms);
  ASSERT_TRUE(c->grant(5s).ok());
  etcd_->pause();
  const auto t0 = std::chrono::steady_clock::now();
  auto k = c->grant(5s);
  const auto took = std::chrono::steady_clock::now() - t0;
  etcd_->resume();
  ASSERT_FALSE(k.ok());
  EXPECT_EQ(k.error().code, "Transport.Timeout") << k.error().to_string();
  EXPECT_GE(took, 650ms);
  EXPECT_LT(took, 3s);
  // And it works again once etcd answers.
  EXPECT_TRUE(daemon::testing::eventually([&] { return c->grant(5s).ok(); }, 10s));
}

TEST_F(EtcdClientTest, AMemberThatStopsAnsweringIsLeftAtTheNextCall) {
  EtcdServer other(dir_.path / "other");
  auto c = client_for({etcd_->endpoint(), other.endpoint()}, {}, {}, {}, 700ms);
  ASSERT_TRUE(c->grant(5s).ok());
  EXPECT_EQ(c->current_endpoint(), etcd_->endpoint());
  etcd_->pause();  // accepts connections, answers nothing
  auto hung = c->grant(5s);
  ASSERT_FALSE(hung.ok());
  EXPECT_EQ(hung.error().code, "Transport.Timeout") << hung.error().to_string();
  auto next = c->grant(5s);
  etcd_->resume();
  ASSERT_TRUE(next.ok()) << next.error().to_string();
  EXPECT_EQ(c->current_endpoint(), other.endpoint());
}

TEST_F(EtcdClientTest, AuthenticatesWithAUserAndAPassword) {
  if (!testing::etcdctl_binary()) GTEST_SKIP() << "etcdctl (etcd-client) is not installed";
  ASSERT_EQ(etcd_->ctl("user add root:rootpw"), 0);
  ASSERT_EQ(etcd_->ctl("user add sk:s3cret-Canary"), 0);
  ASSERT_EQ(etcd_->ctl("role add sk"), 0);
  ASSERT_EQ(etcd_->ctl("role grant-permission sk --prefix=true readwrite /sk/"), 0);
  ASSERT_EQ(etcd_->ctl("user grant-role sk sk"), 0);
  ASSERT_EQ(etcd_->ctl("auth enable"), 0);

  auto anonymous = client_for({etcd_->endpoint()});
  auto denied = anonymous->put("/sk/x", "1");
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().code, "Etcd.InvalidArgument") << denied.error().to_string();

  auto c = client_for({etcd_->endpoint()}, {}, "sk", "s3cret-Canary");
  auto lease = c->grant(10s);
  ASSERT_TRUE(lease.ok()) << lease.error().to_string();
  auto made = c->create_if_absent("/sk/owners/prod", "a", lease->id);
  ASSERT_TRUE(made.ok()) << made.error().to_string();
  EXPECT_TRUE(made->created);
  EXPECT_EQ(c->range("/sk/", "/sk0")->kvs.size(), 1u);
  // Outside its prefix the role has no rights.
  auto outside = c->put("/other", "1");
  ASSERT_FALSE(outside.ok());
  EXPECT_EQ(outside.error().code, "Etcd.PermissionDenied");

  auto wrong = client_for({etcd_->endpoint()}, {}, "sk", "wrong-password");
  auto e = wrong->grant(10s);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message.find("authentication failed"), std::string::npos)
      << e.error().to_string();
  EXPECT_EQ(e.error().to_string().find("wrong-password"), std::string::npos);
}

TEST(EtcdClientTls, MutualTlsWithTheClientCertificate) {
  SK_REQUIRE_ETCD();
  if (!testing::etcdctl_binary()) GTEST_SKIP() << "etcdctl (etcd-client) is not installed";
  daemon::testing::TempDir dir;
  TestPki pki(dir.path);
  EtcdServer etcd(dir.path / "etcd", {&pki});
  ASSERT_TRUE(etcd.endpoint().starts_with("https://127.0.0.1:"));

  EtcdTlsOptions tls;
  tls.ca_file = pki.ca().string();
  tls.cert_file = pki.client_cert().string();
  tls.key_file = pki.client_key().string();
  auto c = client_for({etcd.endpoint()}, tls);
  auto g = c->grant(5s);
  ASSERT_TRUE(g.ok()) << g.error().to_string();

  // Without the client certificate the server refuses the handshake.
  EtcdTlsOptions no_cert;
  no_cert.ca_file = pki.ca().string();
  auto anonymous = client_for({etcd.endpoint()}, no_cert);
  auto e = anonymous->grant(5s);
  ASSERT_FALSE(e.ok());
  EXPECT_TRUE(e.error().code.starts_with("Transport.")) << e.error().to_string();
  // Without our CA the server's certificate is not trusted.
  EtcdTlsOptions no_ca;
  no_ca.cert_file = pki.client_cert().string();
  no_ca.key_file = pki.client_key().string();
  auto untrusting = client_for({etcd.endpoint()}, no_ca);
  auto u = untrusting->grant(5s);
  ASSERT_FALSE(u.ok());
  EXPECT_EQ(u.error().code, "Transport.Tls") << u.error().to_string();
  // A key that does not match the certificate is refused up front.
  EtcdTlsOptions mismatched = tls;
  mismatched.key_file = pki.server_key().string();
  auto t = make_etcd_transport(mismatched);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().code, "Transport.Tls");
}

}  // namespace
}  // namespace sharekeeper::coordination
