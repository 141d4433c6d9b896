// The exact formats (docs/failure-matrix.md §4.7), each with values on both sides of the line.
#include <gtest/gtest.h>

#include "config/formats.hpp"

namespace sharekeeper::config::format {
namespace {

TEST(Formats, AccountUid) {
  EXPECT_TRUE(is_account_uid("1234567890123456"));
  EXPECT_TRUE(is_account_uid("0000000000000000"));
  EXPECT_FALSE(is_account_uid("123456789012345"));
  EXPECT_FALSE(is_account_uid("12345678901234567"));
  EXPECT_FALSE(is_account_uid("2000000000000002.0"));
  EXPECT_FALSE(is_account_uid("1.234567890123E15"));
  EXPECT_FALSE(is_account_uid("123456789012345\""));
  EXPECT_FALSE(is_account_uid("+234567890123456"));
}

TEST(Formats, ResourceIds) {
  EXPECT_TRUE(is_image_id("m-bp18ygjuqnwhechc"));
  EXPECT_FALSE(is_image_id("m-bp18"));                     // under 10
  EXPECT_FALSE(is_image_id("m-" + std::string(33, 'a')));  // over 32
  EXPECT_TRUE(is_image_id("m-" + std::string(32, 'a')));
  EXPECT_FALSE(is_image_id("m-BP18YGJUQNWHECHC"));
  EXPECT_FALSE(is_image_id("s-bp17441ohwka0yuh"));
  EXPECT_TRUE(is_snapshot_id("s-bp17441ohwka0yuh"));
  EXPECT_FALSE(is_snapshot_id("s-bp17441ohwka0yu\""));
  EXPECT_TRUE(is_rd_id("rd-3Gab12"));
  EXPECT_FALSE(is_rd_id("rd-3Gab1"));
  EXPECT_FALSE(is_rd_id("rd-3Gab12*"));
  EXPECT_TRUE(is_root_folder_id("r-ab12CD"));
  EXPECT_TRUE(is_folder_id("fd-0123456789"));
  EXPECT_FALSE(is_folder_id("fd-012345678"));
}

TEST(Formats, FolderPath) {
  EXPECT_TRUE(is_folder_path("rd-abc123/r-ab12cd/fd-0123456789"));
  EXPECT_TRUE(is_folder_path(
      "rd-abc123/r-ab12cd/fd-0000000001/fd-0000000002/fd-0000000003/fd-0000000004/fd-0000000005"));
  EXPECT_FALSE(
      is_folder_path("rd-abc123/r-ab12cd/fd-0000000001/fd-0000000002/fd-0000000003/fd-0000000004/"
                     "fd-0000000005/fd-0000000006"));
  EXPECT_FALSE(is_folder_path("rd-abc123/r-ab12cd"));
  EXPECT_FALSE(is_folder_path("rd-abc123/r-ab12cd/"));
  EXPECT_FALSE(is_folder_path("rd-abc123//fd-0123456789"));
  EXPECT_FALSE(is_folder_path("rd-abc123/r-ab12cd/../fd-0123456789"));
  EXPECT_FALSE(is_folder_path("rd-abc123/r-ab12cd/fd-0123456789*"));
  EXPECT_FALSE(is_folder_path("rd-abc123/fd-0123456789/r-ab12cd"));
  EXPECT_EQ(folder_path_rd("rd-abc123/r-ab12cd/fd-0123456789"), "rd-abc123");
}

TEST(Formats, Regions) {
  for (auto r : {"cn-hangzhou", "ap-southeast-1", "cn-shanghai-finance-1", "me-east-1"}) {
    EXPECT_TRUE(is_region_id(r)) << r;
    EXPECT_TRUE(is_known_region(r)) << r;
  }
  EXPECT_TRUE(is_region_id("xx-newregion-9"));
  EXPECT_FALSE(is_known_region("xx-newregion-9"));
  for (auto r : {"cn", "cn-", "CN-hangzhou", "cn_hangzhou", "cnhz-x", "cn-a-b-c-d", "cn--x",
                 "cn-hangzhou\""})
    EXPECT_FALSE(is_region_id(r)) << r;
}

TEST(Formats, Durations) {
  EXPECT_EQ(parse_duration("30s"), std::chrono::seconds(30));
  EXPECT_EQ(parse_duration("5m"), std::chrono::seconds(300));
  EXPECT_EQ(parse_duration("1h"), std::chrono::seconds(3600));
  EXPECT_EQ(parse_duration("1h30m15s"), std::chrono::seconds(5415));
  for (auto d : {"", "5", "m", "5x", "5m1h", "5m5m", "-5m", "5 m", "1.5h", "99999999s"})
    EXPECT_EQ(parse_duration(d), std::nullopt) << d;
}

TEST(Formats, NamesAndCredentialsFields) {
  EXPECT_TRUE(is_name("golden-images_1.x"));
  EXPECT_FALSE(is_name("-golden"));
  EXPECT_FALSE(is_name("a b"));
  EXPECT_FALSE(is_name(std::string(51, 'a')));
  EXPECT_TRUE(is_instance_name("sharekeeper"));
  EXPECT_FALSE(is_instance_name("acs-x"));
  EXPECT_FALSE(is_instance_name("team-"));
  EXPECT_TRUE(is_env_var_name("ALIBABA_CLOUD_ACCESS_KEY_ID"));
  EXPECT_FALSE(is_env_var_name("1X"));
  EXPECT_FALSE(is_env_var_name("A-B"));
  EXPECT_TRUE(is_role_arn("acs:ram::1234567890123456:role/sharekeeper"));
  EXPECT_FALSE(is_role_arn("acs:ram::1234567890123456:role/"));
  EXPECT_FALSE(is_role_arn("acs:ram::1234567890123456:role/a\",\"b"));
  EXPECT_FALSE(is_role_arn("acs:ram::123456789012345:role/x"));
  EXPECT_TRUE(is_oidc_provider_arn("acs:ram::1234567890123456:oidc-provider/ack-rrsa"));
  EXPECT_FALSE(is_oidc_provider_arn("acs:ram::1234567890123456:role/ack-rrsa"));
  EXPECT_TRUE(is_external_id("abc-123:x/y@z"));
  EXPECT_FALSE(is_external_id("a"));
  EXPECT_TRUE(is_role_session_name("sharekeeper"));
  EXPECT_FALSE(is_role_session_name("share keeper"));
  EXPECT_TRUE(is_absolute_file_path("/var/run/secrets/token"));
  for (auto p : {"token", "/var/../etc/shadow", "/var/./x", "/a//b", "/a/", "/a b"})
    EXPECT_FALSE(is_absolute_file_path(p)) << p;
}

TEST(Formats, Tags) {
  EXPECT_TRUE(is_tag_key("share"));
  EXPECT_TRUE(is_tag_key("团队"));
  EXPECT_TRUE(is_tag_key(std::string(128, 'k')));
  EXPECT_FALSE(is_tag_key(std::string(129, 'k')));
  EXPECT_FALSE(is_tag_key(""));
  EXPECT_FALSE(is_tag_key("aliyun:x"));
  EXPECT_FALSE(is_tag_key("ACS:x"));
  EXPECT_FALSE(is_tag_key("a\"b"));
  EXPECT_FALSE(is_tag_key("http://x"));
  EXPECT_TRUE(is_tag_value(""));
  EXPECT_FALSE(is_tag_value("a\\b"));
  EXPECT_FALSE(is_tag_value("a\tb"));
}

TEST(Formats, Endpoints) {
  EXPECT_TRUE(is_endpoint_url("https://ecs-vpc.{region}.aliyuncs.com"));
  EXPECT_TRUE(is_endpoint_url("https://ecs.aliyuncs.com/"));
  EXPECT_TRUE(is_endpoint_url("https://kms.cn-hangzhou.aliyuncs.com:443"));
  EXPECT_TRUE(is_endpoint_url("http://127.0.0.1:8080"));
  EXPECT_FALSE(is_endpoint_url("http://ecs.aliyuncs.com"));
  EXPECT_FALSE(is_endpoint_url("https://ecs.aliyuncs.com/path"));
  EXPECT_FALSE(is_endpoint_url("https://ecs.{zone}.aliyuncs.com"));
  EXPECT_FALSE(is_endpoint_url("https://user@ecs.aliyuncs.com"));
  EXPECT_FALSE(is_endpoint_url("https://ecs.aliyuncs.com:99999"));
  EXPECT_FALSE(is_endpoint_url("ftp://ecs.aliyuncs.com"));
  EXPECT_FALSE(is_endpoint_url("https://ecs.aliyuncs.com:"));
}

// The split both the endpoint and the etcd rules start from: scheme, host and port, nothing
// checked.
TEST(Formats, SplitHttpUrl) {
  auto u = split_http_url("https://etcd.example:2379/");
  ASSERT_TRUE(u);
  EXPECT_FALSE(u->plain_http);
  EXPECT_EQ(u->host, "etcd.example");
  EXPECT_EQ(u->port, "2379");
  u = split_http_url("http://[::1]:2379");
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->plain_http);
  EXPECT_EQ(u->host, "[::1]");
  EXPECT_EQ(u->port, "2379");
  u = split_http_url("https://ecs.aliyuncs.com");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "ecs.aliyuncs.com");
  EXPECT_EQ(u->port, std::nullopt);
  u = split_http_url("https://h:");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->port, "");
  EXPECT_FALSE(split_http_url("ftp://h:21"));
  EXPECT_FALSE(split_http_url("HTTPS://h"));
  EXPECT_TRUE(is_port("1"));
  EXPECT_TRUE(is_port("65535"));
  EXPECT_FALSE(is_port("65536"));
  EXPECT_FALSE(is_port(""));
  EXPECT_FALSE(is_port("080a"));
  EXPECT_FALSE(is_port("123456"));
}

TEST(Formats, Closest) {
  std::vector<std::string_view> keys = {"images", "snapshots", "selector", "maxRevokeFraction"};
  EXPECT_EQ(closest("snapshot", keys), "snapshots");
  EXPECT_EQ(closest("imagse", keys), "images");
  EXPECT_EQ(closest("max_revoke_fraction", keys), "maxRevokeFraction");
  EXPECT_EQ(closest("region", keys), std::nullopt);
  EXPECT_EQ(closest(std::string(1000, 'x'), keys), std::nullopt);
}

TEST(Formats, AccessKeyIdLookalike) {
  EXPECT_TRUE(looks_like_access_key_id("LTAI5tAbCdEfGhIjKlMnOpQr"));
  EXPECT_FALSE(looks_like_access_key_id("LTAI"));
  EXPECT_FALSE(looks_like_access_key_id("golden"));
}

}  // namespace
}  // namespace sharekeeper::config::format
