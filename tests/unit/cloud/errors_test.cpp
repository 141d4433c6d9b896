// One table of every error Code named in docs/alibaba-api.md §2-§7 with its HTTP status and
// class.
#include "cloud/errors.hpp"

#include <gtest/gtest.h>

#include "cloud/redact.hpp"

namespace sharekeeper::cloud {
namespace {

struct Row {
  const char* code;
  int status;
  ErrorClass cls;
};

constexpr ErrorClass T = ErrorClass::kTransient;
constexpr ErrorClass Th = ErrorClass::kThrottled;
constexpr ErrorClass X = ErrorClass::kTerminal;
constexpr ErrorClass C = ErrorClass::kConflict;
constexpr ErrorClass N = ErrorClass::kNotFound;
constexpr ErrorClass U = ErrorClass::kOutcomeUnknown;

constexpr Row kTable[] = {
    // §2 common codes
    {"InvalidAccessKeyId.NotFound", 404, X},
    {"InvalidAccessKeyId.Inactive", 400, X},
    {"SignatureDoesNotMatch", 400, X},
    {"IncompleteSignature", 400, X},
    {"SignatureNonceUsed", 400, T},
    {"InvalidTimeStamp.Expired", 400, X},
    {"InvalidTimeStamp.Format", 400, X},
    {"InvalidSecurityToken.Expired", 400, X},
    {"InvalidSecurityToken.Malformed", 400, X},
    {"InvalidSecurityToken.MismatchWithAccessKey", 400, X},
    {"MissingParameter", 400, X},
    {"MissingParameter.RoleName", 400, X},
    {"InvalidParameter", 400, X},
    {"InvalidParameter.RoleName.Length", 400, X},
    {"InvalidAction.NotFound", 404, X},
    {"InvalidVersion", 400, X},
    {"Forbidden.RAM", 403, X},
    {"NoPermission", 403, X},
    {"Throttling", 400, Th},
    {"Throttling.User", 400, Th},
    {"Throttling.Api", 400, Th},
    {"Throttling.User", 403, Th},
    {"Throttling.Resource", 429, Th},
    {"Rejected.Throttling", 400, Th},
    {"ServiceUnavailable", 503, T},
    {"ServiceUnavailable", 500, T},
    {"InternalError", 500, T},
    {"DryRunOperation", 400, X},
    // §3 RAM
    {"EntityAlreadyExists.Role", 409, C},
    {"LimitExceeded.Role", 409, X},
    {"MalformedPolicyDocument", 400, X},
    {"InvalidParameter.RoleName.InvalidChars", 400, X},
    {"InvalidParameter.AssumeRolePolicyDocument.Length", 400, X},
    {"EntityNotExist.Role", 404, N},
    {"DeleteConflict.Role.Policy", 409, C},
    {"EntityAlreadyExists.Policy", 409, C},
    {"LimitExceeded.Policy", 409, X},
    {"InvalidParameter.PolicyDocument.Length", 400, X},
    {"InvalidParameter.PolicyName.InvalidChars", 400, X},
    {"InvalidParameter.PolicyName.Length", 400, X},
    {"EntityNotExist.Policy", 404, N},
    {"DeleteConflict.Policy.Version", 409, C},
    {"DeleteConflict.Policy.User", 409, C},
    {"DeleteConflict.Policy.Group", 409, C},
    {"LimitExceeded.Policy.Version", 409, X},
    {"EntityNotExist.Policy.Version", 404, N},
    {"DeleteConflict.Policy.Version.Default", 409, C},
    {"EntityAlreadyExists.Role.Policy", 409, C},
    {"EntityNotExist.Role.Policy", 404, N},
    {"LimitExceeded.Role.Policy", 409, X},
    // §4 STS
    {"InvalidParameter.DurationSeconds", 400, X},
    {"InvalidParameter.RoleArn", 400, X},
    {"InvalidParameter.RoleSessionName", 400, X},
    {"InvalidParameter.ExternalId", 400, X},
    {"InvalidParameter.PolicyGrammar", 400, X},
    {"InvalidParameter.PolicySize", 400, X},
    // §5 ECS
    {"InvalidTag.Mismatch", 400, X},
    {"InvalidTagCount", 400, X},
    {"InvalidSnapshotIds.Malformed", 403, X},
    {"InvalidFilterKey.NotFound", 400, X},
    {"InvalidStatus.NotFound", 400, X},
    {"InvalidSnapshotType.NotFound", 400, X},
    {"InvalidImageOwnerAlias.ValueNotSupported", 400, X},
    {"InvalidImageId.NotFound", 404, N},
    {"AssumeRoleError", 403, X},
    {"OperationDeined.EncryptedSnapshot", 403, X},
    {"OperationDeined.FullImage", 403, X},
    {"QuotaExceed.ShareImage", 403, X},
    {"QuotaExceed.ShareImageUser", 403, X},
    {"InvalidImageId.BidMismatch", 403, X},
    {"OperationDenied.InvalidImageStatus", 403, X},
    {"InvalidAccount.NotFound", 404, N},
    {"InvalidAccount.Forbbiden", 404, X},
    // §6 KMS
    {"Forbidden.KeyNotFound", 404, N},
    {"Forbidden.AliasNotFound", 404, N},
    {"Forbidden.NoPermission", 403, X},
    {"CMKNotEnabled", 400, X},
    // §7 Resource Sharing
    {"InvalidTarget", 400, X},
    {"ResourceAndTargetBothEmpty", 400, X},
    {"DisassociateInvalid", 400, X},
    {"InvalidParameter.Resources.Length", 400, X},
    {"InvalidParameter.Targets.Length", 400, X},
    {"EntityNotExists.ResourceShare", 404, N},
    {"EntityNotExists.Permission", 404, N},
    {"NotEnableSharingWithResourceDirectory", 409, X},
    {"AccountNotInResourceDirectory", 409, X},
    {"ShareWithYourself", 409, X},
    {"QuotaExceeded.ResourceShare.Count", 409, X},
    {"QuotaExceeded.SharedResource.Count", 409, X},
    {"QuotaExceeded.PendingInvitations", 409, X},
    {"ResourceShareStatusMismatchAction", 409, C},
    {"AssociateConflict", 409, C},
    {"DisassociateConflict", 409, C},
    {"ExternalTargetsNotAllowed.ResourceType", 409, X},
    {"InvalidTarget.LegalEntityMismatch", 409, X},
    {"InvalidTarget.SiteMismatch", 409, X},
    {"NotManagementAccount", 409, X},
    {"EntityAlreadyExists.ResourceShare", 409, C},
    // Transport and client codes (cloud/http.hpp)
    {"Transport.Connect", 0, T},
    {"Transport.Resolve", 0, T},
    {"Transport.Tls", 0, X},
    {"Transport.Timeout", 0, U},
    {"Transport.Reset", 0, U},
    {"Client.MalformedResponse", 200, U},
    // Unknown codes fall back on the status; a body without Code gets Http.<status>.
    {"SomethingNew", 502, T},
    {"SomethingNew", 429, Th},
    {"SomethingNew", 400, X},
    {"Http.503", 503, T},
    {"Http.404", 404, N},
    {"Http.403", 403, X},
};

TEST(Errors, ClassifiesEveryDocumentedCode) {
  for (const Row& r : kTable) {
    EXPECT_EQ(classify(r.code, r.status), r.cls)
        << r.code << " (HTTP " << r.status << ") -> " << to_string(classify(r.code, r.status))
        << ", want " << to_string(r.cls);
  }
}

TEST(Errors, ThrottlingWinsOverEveryStatus) {
  for (int status : {0, 400, 403, 404, 409, 429, 500, 503}) {
    EXPECT_EQ(classify("Throttling.User", status), ErrorClass::kThrottled) << status;
  }
}

TEST(Errors, AWriteThatMayHaveCommittedIsAnUnknownOutcome) {
  // ADR 0003: the same answers to a write are re-observed, never retried blind.
  EXPECT_EQ(classify("InternalError", 500, CallKind::kWrite), ErrorClass::kOutcomeUnknown);
  EXPECT_EQ(classify("ServiceUnavailable", 503, CallKind::kWrite), ErrorClass::kOutcomeUnknown);
  EXPECT_EQ(classify("Http.502", 502, CallKind::kWrite), ErrorClass::kOutcomeUnknown);
  EXPECT_EQ(classify("SignatureNonceUsed", 400, CallKind::kWrite), ErrorClass::kOutcomeUnknown);
  EXPECT_EQ(classify("Throttling.User", 503, CallKind::kWrite), ErrorClass::kThrottled);
  EXPECT_EQ(classify("EntityAlreadyExists.Role", 409, CallKind::kWrite), ErrorClass::kConflict);
  EXPECT_EQ(classify("InternalError", 500, CallKind::kRead), ErrorClass::kTransient);
  EXPECT_EQ(classify("SignatureNonceUsed", 400), ErrorClass::kTransient);
}

TEST(Errors, OnlyExpiredTokenRefreshesCredentials) {
  EXPECT_TRUE(refresh_credentials_and_retry("InvalidSecurityToken.Expired"));
  EXPECT_FALSE(refresh_credentials_and_retry("InvalidSecurityToken.Malformed"));
  EXPECT_FALSE(refresh_credentials_and_retry("SignatureDoesNotMatch"));
}

TEST(Errors, ParsesJsonErrorBody) {
  const ErrorBody b = parse_error_body(
      R"({"RequestId":"4F0B","HostId":"ram.aliyuncs.com","Code":"EntityNotExist.Role",)"
      R"("Message":"The role not exists: missing-role.",)"
      R"("Recommend":"https://api.aliyun.com/troubleshoot?q=EntityNotExist.Role&product=Ram"})");
  EXPECT_TRUE(b.parsed);
  EXPECT_EQ(b.code, "EntityNotExist.Role");
  EXPECT_EQ(b.message, "The role not exists: missing-role.");
  EXPECT_EQ(b.request_id, "4F0B");
  EXPECT_EQ(b.host_id, "ram.aliyuncs.com");
  EXPECT_EQ(b.recommend, "https://api.aliyun.com/troubleshoot?q=EntityNotExist.Role&product=Ram");
}

TEST(Errors, ParsesXmlAndToleratesGarbage) {
  const ErrorBody x = parse_error_body(
      "<?xml version='1.0'?><Error><RequestId>R1</RequestId><Code>Throttling</Code>"
      "<Message>slow down</Message></Error>");
  EXPECT_TRUE(x.parsed);
  EXPECT_EQ(x.code, "Throttling");
  EXPECT_EQ(x.message, "slow down");
  EXPECT_EQ(x.request_id, "R1");
  for (const char* junk : {"", "<html>502 Bad Gateway</html>", "{", "[1,2]", "null", "{\"a\":1}"}) {
    const ErrorBody b = parse_error_body(junk);
    EXPECT_FALSE(b.parsed) << junk;
    EXPECT_TRUE(b.code.empty()) << junk;
  }
}

TEST(Errors, ErrorFromResponseFillsAndClassifies) {
  HttpResponse r;
  r.status = 400;
  r.body =
      R"({"RequestId":"R","Code":"Throttling.User","Message":"Request was denied due to user flow control."})";
  const Error e = error_from_response("ram", "ListRoles", r);
  EXPECT_EQ(e.product, "ram");
  EXPECT_EQ(e.action, "ListRoles");
  EXPECT_EQ(e.http_status, 400);
  EXPECT_EQ(e.code, "Throttling.User");
  EXPECT_EQ(e.request_id, "R");
  EXPECT_EQ(e.cls, ErrorClass::kThrottled);
}

TEST(Errors, NonJsonBodyGetsHttpCodeAndShortRedactedExcerpt) {
  HttpResponse r;
  r.status = 502;
  r.body =
      "<html>bad gateway for "
      "https://ram.aliyuncs.com/?AccessKeyId=LTAIabc&Signature=s3cr3t</html>" +
      std::string(1000, 'x');
  const Error e = error_from_response("ram", "GetRole", r);
  EXPECT_EQ(e.code, "Http.502");
  EXPECT_EQ(e.cls, ErrorClass::kTransient);
  EXPECT_LE(e.message.size(), 220u);
  EXPECT_EQ(e.message.find("LTAIabc"), std::string::npos);
  EXPECT_EQ(e.message.find("s3cr3t"), std::string::npos);
}

TEST(Errors, MessagesAreRedacted) {
  redact::register_secret("CanarySecretValue0123456789");
  HttpResponse r;
  r.status = 400;
  r.body = R"({"Code":"SignatureDoesNotMatch","Message":"server string to sign is:POST&%2F&)"
           R"(AccessKeyId%3DLTAI%26SecurityToken%3DCanarySecretValue0123456789"})";
  const Error e = error_from_response("sts", "GetCallerIdentity", r);
  EXPECT_EQ(e.to_string().find("CanarySecretValue0123456789"), std::string::npos);
  EXPECT_EQ(e.cls, ErrorClass::kTerminal);
  redact::clear_registered_secrets();
}

}  // namespace
}  // namespace sharekeeper::cloud
