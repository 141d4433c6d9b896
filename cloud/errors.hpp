#pragma once
// Alibaba Cloud error bodies and the one table-tested classification of every error Code
// (docs/alibaba-api.md §2-§7, docs/failure-matrix.md §0.4: classify by Code, not by HTTP status).
#include <string>
#include <string_view>

#include "cloud/http.hpp"
#include "cloud/result.hpp"

namespace sharekeeper::cloud {

// The fields of an error body: {"RequestId","HostId","Code","Message","Recommend"}. Tolerant: an
// XML body (<Code>..</Code>) is read too; anything else leaves the fields empty and `parsed` false.
struct ErrorBody {
  std::string code;
  std::string message;
  std::string request_id;
  std::string recommend;
  std::string host_id;
  bool parsed = false;
};
ErrorBody parse_error_body(std::string_view body);

// What to do about `code` (http_status 0 when no response arrived). Throttling* is kThrottled even
// at HTTP 400/403; 5xx, ServiceUnavailable and InternalError are kTransient; EntityAlreadyExists.*,
// DeleteConflict.*, *Conflict are kConflict; EntityNotExist(s).*, *.NotFound, Forbidden.KeyNotFound
// are kNotFound except the NotFound codes that name a bad credential or parameter
// (InvalidAccessKeyId.NotFound, InvalidAction.NotFound, InvalidFilterKey.NotFound, ...), which are
// kTerminal like every signature, credential, permission, quota and parameter error;
// Transport.Timeout/Reset (the request was sent) are kOutcomeUnknown; unknown codes fall back on
// the HTTP status (5xx transient, 429 throttled, else terminal).
//
// For a write, what may have come after the request took effect is kOutcomeUnknown instead, so
// the caller re-observes before writing again (ADR 0003): any 5xx, and SignatureNonceUsed (a copy
// of this very request, re-sent by the transport after a stale connection broke, had arrived).
// Throttling was refused before any work and stays kThrottled.
enum class CallKind { kRead, kWrite };
ErrorClass classify(std::string_view code, int http_status, CallKind kind = CallKind::kRead);

// True for the codes after which the client fetches credentials again and retries once
// (InvalidSecurityToken.Expired: our clock or cache thought the STS token still valid).
bool refresh_credentials_and_retry(std::string_view code);

// An Error for a non-2xx response: body parsed, classified, every text field redacted. A body with
// no Code gets "Http.<status>" so the metric label stays bounded.
Error error_from_response(std::string_view product, std::string_view action,
                          const HttpResponse& response, CallKind kind = CallKind::kRead);

// Client-side codes (not Alibaba's).
inline constexpr std::string_view kCodeMalformedResponse = "Client.MalformedResponse";
inline constexpr std::string_view kCodeInvalidEndpoint = "Client.InvalidEndpoint";

}  // namespace sharekeeper::cloud
