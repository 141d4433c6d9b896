#pragma once
// Wire constants of the Alibaba Cloud OpenAPI (docs/alibaba-api.md §1). The only code that
// cloud/ and emulator/ share: each side implements the protocol itself, so a misunderstanding is
// not mirrored.
#include <string_view>

namespace sharekeeper::wire {

// API versions (docs/alibaba-api.md §1.1).
inline constexpr std::string_view kRamVersion = "2015-05-01";
inline constexpr std::string_view kStsVersion = "2015-04-01";
inline constexpr std::string_view kEcsVersion = "2014-05-26";
inline constexpr std::string_view kKmsVersion = "2016-01-20";
inline constexpr std::string_view kResourceSharingVersion = "2020-01-10";
// ResourceManager (Resource Directory membership, read-only): docs/alibaba-api.md §13.
inline constexpr std::string_view kResourceManagerVersion = "2020-03-31";

// V3 signing (docs/alibaba-api.md §1.3).
inline constexpr std::string_view kV3Algorithm = "ACS3-HMAC-SHA256";
inline constexpr std::string_view kHeaderAction = "x-acs-action";
inline constexpr std::string_view kHeaderVersion = "x-acs-version";
inline constexpr std::string_view kHeaderDate = "x-acs-date";
inline constexpr std::string_view kHeaderNonce = "x-acs-signature-nonce";
inline constexpr std::string_view kHeaderContentSha256 = "x-acs-content-sha256";
inline constexpr std::string_view kHeaderSecurityToken = "x-acs-security-token";
inline constexpr std::string_view kHeaderAccessKeyId = "x-acs-accesskey-id";
inline constexpr std::string_view kHeaderRetryAfter = "x-acs-retry-after";
inline constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// V1 signing (docs/alibaba-api.md §1.2).
inline constexpr std::string_view kV1SignatureMethod = "HMAC-SHA1";
inline constexpr std::string_view kV1SignatureVersion = "1.0";

// The two share roles and the disk-encryption role (docs/alibaba-api.md §11).
inline constexpr std::string_view kSnapshotShareRole = "AliyunECSShareEncryptSnapshotDefaultRole";
inline constexpr std::string_view kImageShareRole = "AliyunECSShareEncryptImageDefaultRole";
inline constexpr std::string_view kDiskEncryptRole = "AliyunECSDiskEncryptDefaultRole";
inline constexpr std::string_view kEcsServiceSuffix = "@ecs.aliyuncs.com";
// What the disk-encryption role trusts and holds (docs/contract.md §1.6): ECS itself, and this
// System policy (as Alibaba's service-linked-role module creates it).
inline constexpr std::string_view kEcsService = "ecs.aliyuncs.com";
inline constexpr std::string_view kDiskEncryptRolePolicy = "AliyunECSDiskEncryptRolePolicy";
inline constexpr std::string_view kRdIdConditionKey = "sts:ServiceOwnerRDId";
inline constexpr std::string_view kRdPathConditionKey = "sts:ServiceOwnerRDPath";

// Limits (docs/alibaba-api.md §3, §5, §7).
inline constexpr std::size_t kMaxPolicyDocumentChars = 6144;
inline constexpr std::size_t kMaxPolicyVersions = 5;
inline constexpr std::size_t kMaxImageShareAccountsPerCall = 10;
inline constexpr std::size_t kMaxImageShareAccounts = 50;
inline constexpr std::size_t kMaxSnapshotShareAccounts = 64;
inline constexpr std::size_t kMaxResourceSharingItemsPerCall = 5;
inline constexpr std::size_t kMaxSnapshotIdsPerDescribe = 100;

}  // namespace sharekeeper::wire
