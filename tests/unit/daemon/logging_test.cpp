#include "daemon/logging.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <nlohmann/json.hpp>
#include <sstream>

namespace sharekeeper::daemon::log {
namespace {

const std::string kCanary = "CANARYsecretVALUE0123456789";

TEST(Logging, JsonLinesCarryLevelMessageAndFields) {
  std::ostringstream out;
  init("json", "info", std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
  info("pass finished", {{"account", "prod"}, {"result", "success"}});
  debug("hidden");
  auto j = nlohmann::json::parse(out.str());
  EXPECT_EQ(j["level"], "info");
  EXPECT_EQ(j["msg"], "pass finished");
  EXPECT_EQ(j["account"], "prod");
  EXPECT_TRUE(j.contains("ts"));
  EXPECT_EQ(out.str().find("hidden"), std::string::npos);
}

TEST(Logging, TextFormatForPeople) {
  const std::string l = format_line(Format::kText, Level::kWarn, "config rejected",
                                    {{"file", "a b.yaml"}, {"n", "2"}});
  EXPECT_NE(l.find(" WARN config rejected file=\"a b.yaml\" n=2"), std::string::npos) << l;
}

TEST(Logging, AuditRecordHasEveryField) {
  std::ostringstream out;
  init("json", "info", std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
  audit("prod", {"trust_policy", "AliyunECSShareEncryptImageDefaultRole", "update_trust_policy",
                 "aaa", "bbb", "UpdateRole", "REQ-1"});
  auto j = nlohmann::json::parse(out.str());
  EXPECT_EQ(j["audit"], "true");
  EXPECT_EQ(j["account"], "prod");
  EXPECT_EQ(j["object"], "trust_policy");
  EXPECT_EQ(j["operation"], "update_trust_policy");
  EXPECT_EQ(j["before"], "aaa");
  EXPECT_EQ(j["after"], "bbb");
  EXPECT_EQ(j["apiCalls"], "UpdateRole");
  EXPECT_EQ(j["requestId"], "REQ-1");
}

TEST(Logging, SecretsNeverReachTheLog) {
  std::ostringstream out;
  init("text", "debug", std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
  error("call failed: https://ram.aliyuncs.com/?Action=GetRole&Signature=" + kCanary +
            "&SecurityToken=" + kCanary,
        {{"detail",
          "Authorization: ACS3-HMAC-SHA256 Credential=" + kCanary + ",Signature=" + kCanary},
         {"json", "{\"AccessKeySecret\":\"" + kCanary + "\"}"},
         {"header", "x-acs-security-token: " + kCanary}});
  init("json", "debug", std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
  error("accessKeySecret=" + kCanary,
        {{"Authorization", "Bearer " + kCanary}, {"k", "Authorization: Bearer " + kCanary}});
  EXPECT_EQ(out.str().find(kCanary), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("Action=GetRole"), std::string::npos);  // the rest survives
}

TEST(Logging, ScrubLeavesOrdinaryTextAlone) {
  EXPECT_EQ(scrub("role AliyunECSShareEncryptImageDefaultRole updated, 3 principals"),
            "role AliyunECSShareEncryptImageDefaultRole updated, 3 principals");
}

TEST(Logging, UnknownFormatOrLevelThrows) {
  EXPECT_THROW(init("xml", "info"), std::invalid_argument);
  EXPECT_THROW(init("json", "loud"), std::invalid_argument);
}

}  // namespace
}  // namespace sharekeeper::daemon::log
