#pragma once
// Shared by the model_*_test.cpp binaries: a small realistic seed and a helper that calls
// Model::call directly (no HTTP) as a given account key.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "emulator/model.hpp"

namespace sharekeeper::emulator::testing {

inline constexpr const char* kSharer = "1000000000000001";
inline constexpr const char* kRecipientA = "2000000000000002";  // in the RD, folder fd-prod
inline constexpr const char* kRecipientB = "3000000000000003";  // in the RD, folder fd-dev
inline constexpr const char* kOutsider = "4000000000000004";    // not in the RD
inline constexpr const char* kRegion = "cn-hangzhou";
inline constexpr const char* kCmk = "key-hzz0001";
inline constexpr const char* kServiceKey = "key-hzzsvc01";

inline nlohmann::json base_seed() {
  return nlohmann::json::parse(R"({
    "accounts": [
      {"uid": "1000000000000001", "name": "sharer",
       "accessKeys": [{"id": "AKSHARERROOT", "secret": "sharer-root-secret"},
                      {"id": "AKSHARERUSER", "secret": "sharer-user-secret", "user": "daemon"}],
       "oidcProviders": [{"name": "ack-rrsa", "issuerUrl": "https://oidc.example"}],
       "roles": [{"name": "ci-deployer",
                  "trustPolicy": {"Version": "1", "Statement": [{"Effect": "Allow",
                    "Action": "sts:AssumeRole", "Principal": {"RAM": ["acs:ram::1000000000000001:root"]}}]}},
                 {"name": "oidc-role",
                  "trustPolicy": {"Version": "1", "Statement": [{"Effect": "Allow",
                    "Action": "sts:AssumeRole",
                    "Principal": {"Federated": ["acs:ram::1000000000000001:oidc-provider/ack-rrsa"]}}]}}],
       "regions": {"cn-hangzhou": {
         "kmsKeys": [{"keyId": "key-hzz0001", "aliases": ["alias/share-cmk"]},
                     {"keyId": "key-hzz0002", "state": "Disabled"},
                     {"keyId": "key-hzzsvc01", "creator": "Ecs", "aliases": ["alias/acs/ecs"]}],
         "snapshots": [
           {"snapshotId": "s-enc1", "encrypted": true, "kmsKeyId": "key-hzz0001", "tags": {"share": "yes"}},
           {"snapshotId": "s-enc2", "encrypted": true, "kmsKeyId": "alias/share-cmk"},
           {"snapshotId": "s-plain1", "tags": {"share": "yes", "team": "a"}},
           {"snapshotId": "s-svc1", "encrypted": true}],
         "images": [
           {"imageId": "m-enc1", "snapshotIds": ["s-enc1", "s-plain1"]},
           {"imageId": "m-plain1", "snapshotIds": ["s-plain1"], "tags": {"env": "prod"}},
           {"imageId": "m-svc1", "snapshotIds": ["s-svc1"]}]}}},
      {"uid": "2000000000000002", "name": "recipient-a",
       "accessKeys": [{"id": "AKRECIPIENTA", "secret": "recipient-a-secret"}]},
      {"uid": "3000000000000003", "name": "recipient-b",
       "accessKeys": [{"id": "AKRECIPIENTB", "secret": "recipient-b-secret"}]},
      {"uid": "4000000000000004", "name": "outsider",
       "accessKeys": [{"id": "AKOUTSIDER", "secret": "outsider-secret"}]}
    ],
    "resourceDirectory": {"id": "rd-abc123", "rootFolderId": "r-root1",
      "folders": [{"id": "fd-prod", "parentId": "r-root1"}, {"id": "fd-dev", "parentId": "r-root1"},
                  {"id": "fd-prod-eu", "parentId": "fd-prod"}],
      "accounts": {"1000000000000001": "r-root1", "2000000000000002": "fd-prod",
                   "3000000000000003": "fd-dev"}}
  })");
}

class ModelTest : public ::testing::Test {
 protected:
  ModelTest() { model_.load_seed(base_seed()); }

  ApiResponse call(const std::string& product, const std::string& action,
                   std::map<std::string, std::string> params = {},
                   const std::string& key_id = "AKSHARERROOT") {
    ApiCall c;
    c.product = product;
    c.action = action;
    c.params = std::move(params);
    c.request_id = "REQ-" + std::to_string(++n_);
    c.host = "127.0.0.1";
    c.now = now_;
    if (key_id.empty()) {
      c.caller.anonymous = true;
    } else {
      auto key = model_.find_key(key_id, now_);
      EXPECT_TRUE(key.has_value()) << key_id;
      if (key) {
        c.caller.account_uid = key->account_uid;
        c.caller.access_key_id = key->access_key_id;
        c.caller.arn = key->arn;
        c.caller.identity_type = key->identity_type;
      }
    }
    return model_.call(c);
  }

  // Asserts an error and returns its Code.
  static std::string code(const ApiResponse& r) {
    return r.body.contains("Code") ? r.body["Code"].get<std::string>() : "";
  }

  Model model_;
  Clock::time_point now_ = Clock::now();
  int n_ = 0;
};

}  // namespace sharekeeper::emulator::testing
