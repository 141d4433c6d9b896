#include "cloud/endpoints.hpp"

#include <gtest/gtest.h>

#include <map>

namespace sharekeeper::cloud {
namespace {

std::string host_of(const EndpointResolver& r, std::string_view product, std::string_view region) {
  auto ep = r.resolve(product, region);
  if (!ep) return "ERROR: " + ep.error().message;
  return ep->scheme + "://" + ep->host_header();
}

TEST(Endpoints, DefaultsPerProductAndRegion) {
  const EndpointResolver r;
  struct Row {
    const char* product;
    const char* region;
    const char* url;
  };
  const Row rows[] = {
      {"ram", "", "https://ram.aliyuncs.com"},
      {"ram", "cn-beijing", "https://ram.aliyuncs.com"},
      // ResourceManager is central (docs/alibaba-api.md §13): one host, any region or none.
      {"resourcemanager", "", "https://resourcemanager.aliyuncs.com"},
      {"resourcemanager", "cn-shanghai", "https://resourcemanager.aliyuncs.com"},
      {"sts", "", "https://sts.aliyuncs.com"},
      {"sts", "cn-shanghai", "https://sts.aliyuncs.com"},
      {"ecs", "cn-hangzhou", "https://ecs-cn-hangzhou.aliyuncs.com"},
      {"ecs", "cn-beijing", "https://ecs.cn-beijing.aliyuncs.com"},
      {"ecs", "ap-southeast-1", "https://ecs.ap-southeast-1.aliyuncs.com"},
      {"kms", "cn-hangzhou", "https://kms.cn-hangzhou.aliyuncs.com"},
      {"resourcesharing", "cn-shanghai", "https://resourcesharing.cn-shanghai.aliyuncs.com"},
  };
  for (const Row& row : rows)
    EXPECT_EQ(host_of(r, row.product, row.region), row.url) << row.product;
}

TEST(Endpoints, RegionalStsOnRequest) {
  EndpointOptions o;
  o.sts_regional = true;
  auto r = EndpointResolver::create(o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(host_of(*r, "sts", "cn-hangzhou"), "https://sts.cn-hangzhou.aliyuncs.com");
  EXPECT_EQ(host_of(*r, "sts", ""), "https://sts.aliyuncs.com");
}

TEST(Endpoints, RegionalProductsNeedAValidRegion) {
  const EndpointResolver r;
  EXPECT_FALSE(r.resolve("ecs", "").ok());
  EXPECT_FALSE(r.resolve("kms", "cn-hangzhou.evil.com").ok());
  EXPECT_FALSE(r.resolve("ecs", "cn-hangzhou/x").ok());
  EXPECT_FALSE(r.resolve("ecs", "CN-HANGZHOU").ok());
  EXPECT_FALSE(r.resolve("oss", "cn-hangzhou").ok());
  EXPECT_EQ(r.resolve("ecs", "").error().code, "Client.InvalidEndpoint");
}

TEST(Endpoints, PerProductTemplateWithRegion) {
  EndpointOptions o;
  o.product_overrides["ecs"] = "https://ecs-vpc.{region}.aliyuncs.com";
  o.product_overrides["ram"] = "http://127.0.0.1:8080";
  auto r = EndpointResolver::create(o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(host_of(*r, "ecs", "cn-hangzhou"), "https://ecs-vpc.cn-hangzhou.aliyuncs.com");
  EXPECT_EQ(host_of(*r, "ram", ""), "http://127.0.0.1:8080");
  EXPECT_EQ(host_of(*r, "kms", "cn-hangzhou"), "https://kms.cn-hangzhou.aliyuncs.com");
}

TEST(Endpoints, OverrideAllWins) {
  EndpointOptions o;
  o.product_overrides["ecs"] = "https://ecs-vpc.{region}.aliyuncs.com";
  o.override_all = "https://127.0.0.1:39443/";
  auto r = EndpointResolver::create(o);
  ASSERT_TRUE(r.ok());
  // The connection goes to the override; the Host header names what the call addresses, so the
  // server behind the override learns the product and the region from it as Alibaba's does.
  const std::map<std::string, std::string> addressed = {
      {"ram", "ram.aliyuncs.com"},
      {"sts", "sts.aliyuncs.com"},
      {"ecs", "ecs-vpc.cn-shanghai.aliyuncs.com"},
      {"kms", "kms.cn-shanghai.aliyuncs.com"},
      {"resourcesharing", "resourcesharing.cn-shanghai.aliyuncs.com"},
      {"resourcemanager", "resourcemanager.aliyuncs.com"}};
  for (const auto& [p, host] : addressed) {
    auto ep = r->resolve(p, "cn-shanghai");
    ASSERT_TRUE(ep.ok()) << p;
    EXPECT_EQ(ep->scheme, "https");
    EXPECT_EQ(ep->host, "127.0.0.1");
    EXPECT_EQ(ep->port, 39443);
    EXPECT_EQ(ep->url(), "https://127.0.0.1:39443");
    EXPECT_EQ(ep->host_header(), host) << p;
  }
  // Two regions of one regional product: one connection target, two Host headers.
  EXPECT_EQ(r->resolve("resourcesharing", "cn-hangzhou")->host_header(),
            "resourcesharing.cn-hangzhou.aliyuncs.com");
}

TEST(Endpoints, RejectsBadOverridesUpFront) {
  for (const char* bad :
       {"ftp://x", "127.0.0.1:80", "https://", "https://h:0", "https://h:70000", "https://h:12x",
        "https://h/path", "https://h?q=1", "https://u@h", "https://h_h"}) {
    EndpointOptions all;
    all.override_all = bad;
    EXPECT_FALSE(EndpointResolver::create(all).ok()) << bad;
  }
  EndpointOptions o;
  o.product_overrides["oss"] = "https://oss.aliyuncs.com";
  EXPECT_FALSE(EndpointResolver::create(o).ok());
}

TEST(Endpoints, ParsesSchemeHostPort) {
  auto a = parse_endpoint_url("https://ram.aliyuncs.com", false);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, (Endpoint{"https", "ram.aliyuncs.com", 443, ""}));
  EXPECT_EQ(a->host_header(), "ram.aliyuncs.com");
  auto b = parse_endpoint_url("http://localhost:8080/", true);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*b, (Endpoint{"http", "localhost", 8080, ""}));
  EXPECT_EQ(b->url(), "http://localhost:8080");
  auto c = parse_endpoint_url("https://[::1]:9443", false);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->host, "::1");
  EXPECT_EQ(c->host_header(), "[::1]:9443");
  // http only for overrides.
  EXPECT_FALSE(parse_endpoint_url("http://ram.aliyuncs.com", false).ok());
}

}  // namespace
}  // namespace sharekeeper::cloud
