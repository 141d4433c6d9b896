// Model: the mutex, the last seed, dispatch by product and action, and Alibaba-shaped errors.
#include "emulator/model.hpp"

#include <mutex>

#include "emulator/model_state.hpp"
#include "support/wire.hpp"

namespace sharekeeper::emulator {

namespace {

std::string product_of(const ApiCall& call) {
  if (!call.product.empty()) return lower(call.product);
  if (call.version == wire::kRamVersion) return "ram";
  if (call.version == wire::kStsVersion) return "sts";
  if (call.version == wire::kEcsVersion) return "ecs";
  if (call.version == wire::kKmsVersion) return "kms";
  if (call.version == wire::kResourceSharingVersion) return "resourcesharing";
  if (call.version == wire::kResourceManagerVersion) return "resourcemanager";
  return "";
}

struct ProductInfo {
  std::string_view name;  // as in the troubleshoot URL
  std::string_view host;  // default HostId
};

ProductInfo product_info(std::string_view product) {
  if (product == "ram") return {"Ram", "ram.aliyuncs.com"};
  if (product == "sts") return {"Sts", "sts.aliyuncs.com"};
  if (product == "ecs") return {"Ecs", "ecs.aliyuncs.com"};
  if (product == "kms") return {"Kms", "kms.aliyuncs.com"};
  if (product == "resourcesharing") return {"ResourceSharing", "resourcesharing.aliyuncs.com"};
  if (product == "resourcemanager") return {"ResourceManager", "resourcemanager.aliyuncs.com"};
  return {"", "aliyuncs.com"};
}

}  // namespace

ApiResponse make_error(const ApiCall& call, int status, std::string_view code,
                       std::string_view message) {
  ProductInfo info = product_info(product_of(call));
  nlohmann::json body;
  body["RequestId"] = call.request_id;
  body["HostId"] = call.host.empty() ? std::string(info.host) : call.host;
  body["Code"] = std::string(code);
  body["Message"] = std::string(message);
  std::string recommend = "https://api.aliyun.com/troubleshoot?q=" + std::string(code);
  if (!info.name.empty()) recommend += "&product=" + std::string(info.name);
  body["Recommend"] = recommend;
  return ApiResponse{status, std::move(body)};
}

struct Model::Impl {
  mutable std::mutex mu;
  ModelOptions options;
  State state;
  nlohmann::json seed = nlohmann::json::object();
};

Model::Model(ModelOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = options;
  impl_->state = load_seed_state(impl_->seed, Clock::now());
}

Model::~Model() = default;

void Model::load_seed(const nlohmann::json& seed) {
  // Parse outside the lock into a fresh state: a malformed seed throws and leaves the old state.
  State fresh = load_seed_state(seed, Clock::now());
  std::lock_guard lock(impl_->mu);
  impl_->state = std::move(fresh);
  impl_->seed = seed;
}

void Model::reset() {
  std::lock_guard lock(impl_->mu);
  impl_->state = load_seed_state(impl_->seed, Clock::now());
}

struct ModelSnapshot {
  State state;
};

std::shared_ptr<const ModelSnapshot> Model::snapshot() const {
  std::lock_guard lock(impl_->mu);
  return std::make_shared<const ModelSnapshot>(ModelSnapshot{impl_->state});
}

void Model::restore(const ModelSnapshot& snapshot) {
  std::lock_guard lock(impl_->mu);
  impl_->state = snapshot.state;
}

ApiResponse Model::call(const ApiCall& call) {
  std::lock_guard lock(impl_->mu);
  std::string product = product_of(call);
  try {
    if (call.caller.anonymous) {
      if (!(product == "sts" &&
            (call.action == "AssumeRoleWithOIDC" || call.action == "AssumeRoleWithSAML"))) {
        fail(400, "MissingParameter", "AccessKeyId is mandatory for this action.");
      }
    } else if (impl_->state.account(call.caller.account_uid) == nullptr) {
      fail(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.");
    }
    if (product == "ram") return ram_call(impl_->state, impl_->options, call);
    if (product == "sts") return sts_call(impl_->state, impl_->options, call);
    if (product == "ecs") return ecs_call(impl_->state, impl_->options, call);
    if (product == "kms") return kms_call(impl_->state, impl_->options, call);
    if (product == "resourcesharing") {
      return resource_sharing_call(impl_->state, impl_->options, call);
    }
    if (product == "resourcemanager") {
      return resource_manager_call(impl_->state, impl_->options, call);
    }
    fail(404, "InvalidAction.NotFound",
         "Specified api is not found, please check your url and method.");
  } catch (const ApiFailure& f) {
    return make_error(call, f.status, f.code, f.message);
  } catch (const std::exception& e) {
    // A handler bug must not take the emulator down; answer like the gateway's internal error.
    return make_error(
        call, 500, "InternalError",
        std::string("The request processing has failed due to some unknown error: ") + e.what());
  }
}

std::optional<KeyRecord> Model::find_key(std::string_view access_key_id,
                                         Clock::time_point now) const {
  std::lock_guard lock(impl_->mu);
  auto to_record = [](const AccessKey& k, const std::string& uid) {
    KeyRecord r;
    r.access_key_id = k.id;
    r.secret = k.secret;
    r.account_uid = uid;
    r.arn = k.arn;
    r.identity_type = k.identity_type;
    r.security_token = k.security_token;
    r.expires = k.expires;
    return r;
  };
  for (const auto& acc : impl_->state.accounts) {
    for (const auto& k : acc.keys) {
      if (k.id == access_key_id) {
        if (k.expires && *k.expires <= now) return std::nullopt;
        return to_record(k, acc.uid);
      }
    }
  }
  for (const auto& k : impl_->state.sts_keys) {
    if (k.id == access_key_id) {
      if (k.expires && *k.expires <= now) return std::nullopt;
      return to_record(k, impl_->state.sts_key_account.at(k.id));
    }
  }
  return std::nullopt;
}

nlohmann::json Model::state() const {
  std::lock_guard lock(impl_->mu);
  return dump_state(impl_->state, impl_->options, Clock::now());
}

nlohmann::json Model::state(Clock::time_point now) const {
  std::lock_guard lock(impl_->mu);
  return dump_state(impl_->state, impl_->options, now);
}

nlohmann::json Model::access(std::string_view account_uid, std::string_view resource_id,
                             Clock::time_point now) const {
  std::lock_guard lock(impl_->mu);
  return evaluate_access(impl_->state, impl_->options, account_uid, resource_id, now);
}

int Model::accept_invitations(const std::optional<std::string>& account_uid,
                              Clock::time_point now) {
  std::lock_guard lock(impl_->mu);
  return accept_pending_invitations(impl_->state, account_uid, now);
}

}  // namespace sharekeeper::emulator
