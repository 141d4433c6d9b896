#pragma once
// The emulated cloud's state and its products (RAM, STS, ECS, KMS, Resource Sharing): the part of
// the emulator that knows no HTTP. The protocol layer (server.cpp, verifier.cpp) parses and
// verifies requests, then calls Model::call(); it asks Model for access keys and STS tokens while
// verifying signatures.
//
// Thread-safe: every public method takes the model's mutex.
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace sharekeeper::emulator {

using Clock = std::chrono::system_clock;

// Who is calling, as established by the verifier.
struct Caller {
  bool anonymous = false;   // only AssumeRoleWithOIDC / AssumeRoleWithSAML
  std::string account_uid;  // owner account of the key or of the assumed role
  std::string access_key_id;
  std::string arn;  // acs:ram::<uid>:root, ...:user/<n>, or ...:assumed-role/<role>/<session>
  std::string identity_type;  // Account | RAMUser | AssumedRoleUser
};

struct ApiCall {
  std::string product;  // ram | sts | ecs | kms | resourcesharing (from the version)
  std::string version;
  std::string action;
  std::map<std::string, std::string>
      params;  // decoded, query merged with form body, common params included
  Caller caller;
  std::string request_id;
  std::string host;  // Host header (for HostId in errors)
  Clock::time_point now;
};

struct ApiResponse {
  int status = 200;
  nlohmann::json body;  // always carries RequestId
};

// A secret the verifier may check a signature against.
struct KeyRecord {
  std::string access_key_id;
  std::string secret;
  std::string account_uid;
  std::string arn;
  std::string identity_type;
  std::optional<std::string> security_token;  // set for STS credentials ("STS." keys)
  std::optional<Clock::time_point> expires;   // STS credentials only
};

struct ModelOptions {
  std::chrono::milliseconds association_delay{200};  // Resource Sharing Associating -> Associated
  std::chrono::milliseconds consistency_lag{
      0};  // a created role/policy is invisible to reads this long
  std::chrono::seconds sts_duration_default{3600};
};

// Error body in Alibaba's shape: {RequestId, HostId, Code, Message, Recommend}.
ApiResponse make_error(const ApiCall& call, int status, std::string_view code,
                       std::string_view message);

// The whole state at one moment (Model::snapshot), opaque; restore() returns to it.
struct ModelSnapshot;

class Model {
 public:
  explicit Model(ModelOptions options = {});
  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  // Replaces the whole state with the seed (docs/contract.md §3.5). Throws SeedError (what() names
  // the JSON path) on a malformed seed; the previous state is kept then.
  void load_seed(const nlohmann::json& seed);
  // Back to the last loaded seed (or empty).
  void reset();
  // A copy of the current state, and a return to it (the seed stays the last loaded one): a test
  // that runs many cases from one prepared world restores it instead of rebuilding it.
  std::shared_ptr<const ModelSnapshot> snapshot() const;
  void restore(const ModelSnapshot& snapshot);

  ApiResponse call(const ApiCall& call);

  std::optional<KeyRecord> find_key(std::string_view access_key_id, Clock::time_point now) const;

  nlohmann::json state() const;  // GET /_emulator/state
  // The same at `now` (an emulated clock's time: Resource Sharing's Associating/Associated and
  // Deleting/Deleted depend on it).
  nlohmann::json state(Clock::time_point now) const;
  // GET /_emulator/access: {usable, reasons[]}
  nlohmann::json access(std::string_view account_uid, std::string_view resource_id,
                        Clock::time_point now) const;
  // POST /_emulator/accept-invitations: accepts pending invitations (of one account, or all).
  // Returns count.
  int accept_invitations(const std::optional<std::string>& account_uid, Clock::time_point now);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class SeedError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace sharekeeper::emulator
