#pragma once
// AlibabaClient: CloudApi over the real Alibaba Cloud wire protocol (docs/alibaba-api.md §1-§7).
// Builds requests exactly like the official SDK (POST, business parameters in the query, empty
// body, V3 ACS3-HMAC-SHA256 by default or V1 HMAC-SHA1), sends them through a Transport, retries
// transient and throttled errors with backoff from a shared retry quota, paces each product with an
// AIMD rate limiter, follows every page, chunks to the APIs' per-call limits, and redacts every
// error text.
//
// One instance per account (one credentials provider). Thread-safe: every method may be called from
// several threads at once; the collaborators it is given must be thread-safe too.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "cloud/api.hpp"
#include "cloud/credentials.hpp"
#include "cloud/endpoints.hpp"
#include "cloud/http.hpp"
#include "cloud/rate_limiter.hpp"
#include "cloud/retry.hpp"
#include "cloud/signer.hpp"

namespace sharekeeper::cloud {

enum class SignatureAlgorithm {
  kV3,  // ACS3-HMAC-SHA256, what the current official SDKs send
  kV1,  // HMAC-SHA1 RPC signature (the SDK's signatureAlgorithm: 'v2')
};

// One attempt, for metrics: code is "OK" or the Alibaba (or client/transport) error Code, already
// redacted and bounded. Called after every HTTP attempt, retries included.
using CallObserver =
    std::function<void(std::string_view product, std::string_view action, std::string_view code,
                       std::chrono::nanoseconds duration, int attempt)>;

struct AlibabaClientOptions {
  std::shared_ptr<Transport> transport;               // required
  std::shared_ptr<CredentialsProvider> credentials;   // required
  std::shared_ptr<const EndpointResolver> endpoints;  // default: public endpoints
  SignatureAlgorithm signature = SignatureAlgorithm::kV3;
  std::chrono::milliseconds timeout{15'000};  // per HTTP attempt
  RetryPolicy retry;
  std::shared_ptr<RetryQuota> retry_quota;        // share one per process; default: own
  std::shared_ptr<RateLimiterSet> rate_limiters;  // share one per account; default: own
  std::shared_ptr<support::Clock> clock;          // default: support::SystemClock::shared()
  std::function<std::string()> nonce;             // default: 32 random hex characters
  Random random;                                  // jitter; default: default_random()
  CallObserver on_call;                           // optional
  std::string user_agent;                         // default: "sharekeeper/<version>"
  // Page sizes (each API's maximum): tests lower them to exercise pagination.
  int page_size = 100;
  // Calls one typed call may have in flight when it is made of several independent requests (one
  // DescribeImages per image id): the rate limiter, not the round trip, should bound it.
  int fan_out = 4;
};

class AlibabaClient final : public CloudApi {
 public:
  // Fills the defaults; transport and credentials are required (asserted).
  explicit AlibabaClient(AlibabaClientOptions options);
  ~AlibabaClient() override;
  AlibabaClient(const AlibabaClient&) = delete;
  AlibabaClient& operator=(const AlibabaClient&) = delete;

  // ---- CloudApi
  Result<CallerIdentity> get_caller_identity() override;

  Result<std::optional<Role>> get_role(std::string_view role_name) override;
  Result<Role> create_role(std::string_view role_name, std::string_view trust_policy,
                           std::string_view description, const std::vector<Tag>& tags) override;
  Result<Role> update_role_trust_policy(std::string_view role_name,
                                        std::string_view trust_policy) override;
  Result<std::vector<AttachedPolicy>> list_policies_for_role(std::string_view role_name) override;
  Result<std::optional<Policy>> get_policy(std::string_view policy_name,
                                           std::string_view policy_type) override;
  Result<std::vector<PolicyVersion>> list_policy_versions(std::string_view policy_name,
                                                          std::string_view policy_type) override;
  Result<Policy> create_policy(std::string_view policy_name, std::string_view document,
                               std::string_view description, const std::vector<Tag>& tags) override;
  Result<PolicyVersion> create_policy_version(std::string_view policy_name,
                                              std::string_view document, bool set_as_default,
                                              bool rotate) override;
  Result<void> delete_policy_version(std::string_view policy_name,
                                     std::string_view version_id) override;
  Result<void> set_default_policy_version(std::string_view policy_name,
                                          std::string_view version_id) override;
  Result<void> attach_policy_to_role(std::string_view policy_type, std::string_view policy_name,
                                     std::string_view role_name) override;
  Result<void> detach_policy_from_role(std::string_view policy_type, std::string_view policy_name,
                                       std::string_view role_name) override;
  Result<void> tag_resources(std::string_view resource_type, const std::vector<std::string>& names,
                             const std::vector<Tag>& tags) override;
  Result<std::vector<TagResource>> list_tag_resources(
      std::string_view resource_type, const std::vector<std::string>& names) override;

  Result<std::vector<Snapshot>> describe_snapshots(std::string_view region,
                                                   const std::vector<std::string>& snapshot_ids,
                                                   const std::vector<Tag>& tag_filter) override;
  Result<std::vector<Image>> describe_images(std::string_view region,
                                             const std::vector<std::string>& image_ids,
                                             const std::vector<Tag>& tag_filter) override;
  Result<std::vector<Image>> list_own_images(std::string_view region) override;
  Result<std::vector<std::string>> describe_image_share_permission(
      std::string_view region, std::string_view image_id) override;
  Result<void> modify_image_share_permission(
      std::string_view region, std::string_view image_id,
      const std::vector<std::string>& add_accounts,
      const std::vector<std::string>& remove_accounts) override;
  Result<void> tag_ecs_resources(std::string_view region, std::string_view resource_type,
                                 const std::vector<std::string>& resource_ids,
                                 const std::vector<Tag>& tags) override;
  Result<void> untag_ecs_resources(std::string_view region, std::string_view resource_type,
                                   const std::vector<std::string>& resource_ids,
                                   const std::vector<std::string>& tag_keys) override;

  Result<std::optional<KeyMetadata>> describe_key(std::string_view region,
                                                  std::string_view key_id) override;
  Result<std::vector<std::string>> list_aliases_by_key_id(std::string_view region,
                                                          std::string_view key_id) override;

  Result<std::vector<ResourceShare>> list_resource_shares(
      std::string_view region, const ResourceShareFilter& filter) override;
  Result<ResourceShare> create_resource_share(std::string_view region, std::string_view name,
                                              const std::vector<ShareResource>& resources,
                                              const std::vector<std::string>& targets,
                                              bool allow_external_targets,
                                              const std::vector<Tag>& tags) override;
  Result<ResourceShare> update_resource_share(std::string_view region,
                                              std::string_view resource_share_id,
                                              std::string_view name,
                                              bool allow_external_targets) override;
  Result<void> delete_resource_share(std::string_view region,
                                     std::string_view resource_share_id) override;
  Result<std::vector<ResourceShareAssociation>> associate_resource_share(
      std::string_view region, std::string_view resource_share_id,
      const std::vector<ShareResource>& resources,
      const std::vector<std::string>& targets) override;
  Result<std::vector<ResourceShareAssociation>> disassociate_resource_share(
      std::string_view region, std::string_view resource_share_id,
      const std::vector<ShareResource>& resources,
      const std::vector<std::string>& targets) override;
  Result<std::vector<ResourceShareAssociation>> list_resource_share_associations(
      std::string_view region, std::string_view association_type,
      const std::vector<std::string>& resource_share_ids) override;

  Result<std::vector<std::string>> describe_regions(std::string_view region) override;
  Result<std::optional<ResourceDirectoryInfo>> get_resource_directory() override;
  Result<std::vector<DirectoryAccount>> list_directory_accounts() override;

  // ---- The generic call every typed method goes through (also for tools and tests).
  struct Call {
    std::string_view product;  // "ram", "sts", "ecs", "kms", "resourcesharing", "resourcemanager"
    std::string_view version;  // wire::kRamVersion, ...
    std::string_view action;
    std::string_view region;  // empty for ram and sts
    Params params;            // business parameters, decoded
    bool read_only = false;   // an unknown outcome may be retried
  };
  // The response body of a 2xx answer, or the (redacted, classified) error of the last attempt.
  Result<std::string> invoke(const Call& call);

  // The request one attempt would send (fresh date and nonce), for tests and the benchmark.
  Result<HttpRequest> build_request(const Call& call, const Credentials& credentials);

 private:
  // DescribeImages of our own images with id ("" = no id filter) and the tags, page by page, each
  // image to on_image; `more` as detail::numbered_pages's (none: every page).
  Result<void> image_pages(std::string_view region, const std::string& id,
                           const std::vector<Tag>& tag_filter,
                           const std::function<void(Image)>& on_image,
                           const std::function<bool(std::int64_t, std::int64_t)>& more = {});
  // DescribeImages of our own images, one listing per id ("" = no id filter), every page.
  Result<std::vector<Image>> own_images(std::string_view region,
                                        const std::vector<std::string>& ids,
                                        const std::vector<Tag>& tag_filter);

  AlibabaClientOptions options_;
};

}  // namespace sharekeeper::cloud
