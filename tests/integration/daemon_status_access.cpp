// /status of a running daemon agrees with the emulator's access evaluator (issue 16): the
// quickstart world converged by `sharekeeper run` itself, and the brownfield world adopted by
// `sharekeeper import` (a process) and then run. For every grant and each of its resources,
// /status's blockedBy is null exactly when GET /_emulator/access says the target account can use
// the resource; for a directory or folder target, a resource /status calls usable is usable by
// every member below it. Processes on loopback, port 0; every wait polls under a deadline.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "brownfield_world.hpp"
#include "daemon_harness.hpp"

namespace sharekeeper::daemon::testing {
namespace {

using nlohmann::json;

// The members of the seed's directory below a target ("rd-..." or a folder path), from the seed.
std::vector<std::string> members_below(const json& seed, const std::string& target) {
  std::vector<std::string> out;
  const json& rd = seed["resourceDirectory"];
  std::map<std::string, std::string> parent;
  for (const auto& f : rd["folders"])
    parent[f["id"].get<std::string>()] = f.value("parentId", rd["rootFolderId"].get<std::string>());
  const std::string root = rd["rootFolderId"];
  for (const auto& [uid, folder] : rd["accounts"].items()) {
    std::string path = folder.get<std::string>();
    for (std::string f = path; f != root && parent.count(f) != 0U;) {
      f = parent[f];
      path = f + "/" + path;
    }
    path = rd["id"].get<std::string>() + "/" + path;
    if (path.rfind(target, 0) == 0) out.push_back(uid);
  }
  return out;
}

class StatusAccessTest : public ::testing::Test {
 protected:
  void run_daemon(const fs::path& seed_file, const std::string& key, const std::string& secret) {
    emulator_ = std::make_unique<Emulator>(dir_.path, seed_file.string());
    seed_ = json::parse(read_file(seed_file));
    env_ = {{"ALIBABA_CLOUD_ACCESS_KEY_ID", key}, {"ALIBABA_CLOUD_ACCESS_KEY_SECRET", secret}};
  }
  void start_daemon() {
    daemon_ = std::make_unique<Daemon>(dir_.path, emulator_->url, std::vector<std::string>{}, env_);
    ASSERT_TRUE(eventually([&] { return daemon_->get("/readyz").status == 200; }, 60s))
        << daemon_->logs();
  }
  void TearDown() override {
    if (daemon_ && daemon_->proc->running()) {
      daemon_->proc->signal(SIGTERM);
      daemon_->proc->wait(30s);
    }
  }
  json status() { return json::parse(daemon_->get("/status").body); }
  bool usable(const std::string& uid, const std::string& resource) {
    auto r = http_request(emulator_->port, "GET",
                          "/_emulator/access?account=" + uid + "&resource=" + resource);
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body).value("usable", false);
  }
  // Until no grant is Pending (associations are asynchronous): a reconcile now and then.
  void settle() {
    ASSERT_TRUE(eventually(
        [&] {
          // Held by name: a range-for over status()["grants"] iterates a freed temporary (ASan).
          const json s = status();
          for (const auto& g : s["grants"])
            if (g["state"] == "Pending") {
              daemon_->post("/reconcile", true);
              return false;
            }
          return true;
        },
        60s))
        << status().dump(2);
  }
  // Returns the number of (grant, resource) pairs compared.
  int compare() {
    json s = status();
    // The sharer's UID (the same account in both worlds): not a recipient of its own resources.
    for (auto& g : s["grants"]) g["account_uid"] = "1234567890123456";
    int compared = 0;
    EXPECT_FALSE(s["grants"].empty());
    for (const auto& g : s["grants"]) {
      const std::string target = g["target"];
      bool all = true;
      for (const auto& r : g["resources"]) {
        const std::string id = r["id"];
        const bool status_usable = r["blockedBy"].is_null();
        all = all && status_usable;
        if (g["targetType"] == "account") {
          EXPECT_EQ(status_usable, usable(target, id))
              << g["share"] << " " << id << " -> " << target << ": " << r.dump();
          ++compared;
        } else if (status_usable) {
          for (const auto& uid : members_below(seed_, target)) {
            if (uid == g["account_uid"].get<std::string>()) continue;  // the sharer itself
            EXPECT_TRUE(usable(uid, id))
                << g["share"] << " " << id << " -> " << target << " (member " << uid << ")";
            ++compared;
          }
        }
      }
      EXPECT_EQ(g["blockedBy"].is_null(), all) << g.dump();
    }
    return compared;
  }

  TempDir dir_;
  json seed_;
  std::map<std::string, std::string> env_;
  std::unique_ptr<Emulator> emulator_;
  std::unique_ptr<Daemon> daemon_;
};

TEST_F(StatusAccessTest, QuickstartConvergedByTheDaemon) {
  run_daemon(fs::path(SHAREKEEPER_SOURCE_DIR) / "examples/seed/quickstart.json", kSharerKeyId,
             kSharerSecret);
  write_file_atomic(dir_.path / "config.yaml",
                    read_file(fs::path(SHAREKEEPER_SOURCE_DIR) / "examples/quickstart.yaml"));
  start_daemon();
  settle();
  const int n = compare();
  EXPECT_GE(n, 5) << status().dump(2);
  std::printf("quickstart: %d (grant, resource[, member]) pair(s) compared\n", n);
}

TEST_F(StatusAccessTest, BrownfieldImportedThenRun) {
  namespace bf = sharekeeper::testing::brownfield;
  write_file_atomic(dir_.path / "seed.json", bf::brownfield_seed().dump(2));
  run_daemon(dir_.path / "seed.json", bf::kKeyId, bf::kSecret);
  // RAM/KMS only, so the resource shares a person made are adopted as they are.
  write_file_atomic(dir_.path / "given.yaml", R"(apiVersion: sharekeeper/v1
settings:
  manageShares: false
accounts:
  - name: prod
    uid: "1234567890123456"
    credentials:
      source: default
)");
  // No --region: import finds the two regions the account uses (ECS DescribeRegions, then the
  // regions holding its images or resource shares).
  Process importer({SK_DAEMON_BIN, "import", "-c", (dir_.path / "given.yaml").string(), "-o",
                    (dir_.path / "config.yaml").string(), "--endpoint-override", emulator_->url},
                   dir_.path / "import.out", dir_.path / "import.err", env_);
  ASSERT_EQ(importer.wait(120s), std::optional<int>(0)) << read_file(dir_.path / "import.err");
  const std::string imported = read_file(dir_.path / "config.yaml");
  EXPECT_NE(imported.find("region: cn-shanghai"), std::string::npos) << imported;
  start_daemon();
  settle();
  const int n = compare();
  EXPECT_GE(n, 10) << read_file(dir_.path / "config.yaml") << status().dump(2);
  std::printf("brownfield: %d (grant, resource[, member]) pair(s) compared\n", n);
}

}  // namespace
}  // namespace sharekeeper::daemon::testing
