#include "cloud/errors.hpp"

#include <array>
#include <nlohmann/json.hpp>

#include "cloud/redact.hpp"

namespace sharekeeper::cloud {
namespace {

std::string json_string(const nlohmann::json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_null()) return {};
  return it->dump();
}

std::string xml_element(std::string_view body, std::string_view name) {
  // Built with append, not operator+: GCC 12 at -O3 warns (-Wrestrict) on the temporary chain.
  std::string open(1, '<');
  open.append(name).push_back('>');
  std::string close("</");
  close.append(name).push_back('>');
  const auto a = body.find(open);
  if (a == std::string_view::npos) return {};
  const auto b = body.find(close, a + open.size());
  if (b == std::string_view::npos) return {};
  return std::string(body.substr(a + open.size(), b - a - open.size()));
}

bool contains(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
}

// Codes ending in NotFound that do not mean "the object you asked about is absent": a wrong key, an
// unknown action, or a bad filter value. Retrying or treating them as "absent" would hide the
// mistake.
constexpr std::array<std::string_view, 7> kTerminalNotFound{
    "InvalidAccessKeyId.NotFound",  "InvalidAction.NotFound",       "InvalidFilterKey.NotFound",
    "InvalidStatus.NotFound",       "InvalidSnapshotType.NotFound", "InvalidRegionId.NotFound",
    "InvalidResourceType.NotFound",
};

}  // namespace

ErrorBody parse_error_body(std::string_view body) {
  ErrorBody out;
  const auto obj = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (obj.is_object()) {
    out.code = json_string(obj, "Code");
    out.message = json_string(obj, "Message");
    out.request_id = json_string(obj, "RequestId");
    out.recommend = json_string(obj, "Recommend");
    out.host_id = json_string(obj, "HostId");
    out.parsed = !out.code.empty() || !out.request_id.empty();
    return out;
  }
  // The SDK parses XML only for text/xml, but a proxy or an old gateway may answer with it.
  out.code = xml_element(body, "Code");
  if (!out.code.empty()) {
    out.message = xml_element(body, "Message");
    out.request_id = xml_element(body, "RequestId");
    out.recommend = xml_element(body, "Recommend");
    out.host_id = xml_element(body, "HostId");
    out.parsed = true;
  }
  return out;
}

namespace {

ErrorClass classify_code(std::string_view code, int http_status) {
  // Throttling first: it comes back as HTTP 400 (and 403 in ECS metadata), so no status rule may
  // win.
  if (contains(code, "Throttling")) return ErrorClass::kThrottled;

  // Transport: whether the request left this host decides between "retry" and "re-observe".
  if (code == "Transport.Connect" || code == "Transport.Resolve") return ErrorClass::kTransient;
  if (code == "Transport.Timeout" || code == "Transport.Reset") return ErrorClass::kOutcomeUnknown;
  if (code.starts_with("Transport."))
    return ErrorClass::kTerminal;  // Transport.Tls: never downgrade
  if (code == kCodeMalformedResponse)
    return ErrorClass::kOutcomeUnknown;  // an answer came, unreadable

  if (code.starts_with("ServiceUnavailable") || code.starts_with("InternalError") ||
      code == "UnknownError" || code == "ServiceBusy" || code == "SystemBusy") {
    return ErrorClass::kTransient;
  }
  // A read is simply asked again with a fresh nonce (for a write, see classify()).
  if (code == "SignatureNonceUsed") return ErrorClass::kTransient;

  // Quota and limit errors arrive as 409 but are not conflicts: nothing changes until a human acts.
  if (code.starts_with("LimitExceeded") || code.starts_with("QuotaExceed"))
    return ErrorClass::kTerminal;

  if (code.starts_with("EntityAlreadyExists") || code.starts_with("DeleteConflict") ||
      code.ends_with("Conflict") || code == "ResourceShareStatusMismatchAction") {
    return ErrorClass::kConflict;
  }

  for (const auto t : kTerminalNotFound) {
    if (code == t) return ErrorClass::kTerminal;
  }
  // EntityNotExist.* (RAM, STS) and EntityNotExists.* (Resource Sharing) alike.
  if (code.starts_with("EntityNotExist") || code.ends_with(".NotFound") ||
      code == "Forbidden.KeyNotFound" || code == "Forbidden.AliasNotFound") {
    return ErrorClass::kNotFound;
  }

  if (code.empty() || code.starts_with("Http.")) {
    if (http_status >= 500) return ErrorClass::kTransient;
    if (http_status == 429) return ErrorClass::kThrottled;
    if (http_status == 404) return ErrorClass::kNotFound;
    return ErrorClass::kTerminal;
  }
  // A known-shaped but unlisted Alibaba code: a 5xx is the server's trouble, anything else is ours.
  if (http_status >= 500) return ErrorClass::kTransient;
  if (http_status == 429) return ErrorClass::kThrottled;
  return ErrorClass::kTerminal;
}

}  // namespace

ErrorClass classify(std::string_view code, int http_status, CallKind kind) {
  const ErrorClass cls = classify_code(code, http_status);
  if (kind == CallKind::kWrite && cls != ErrorClass::kThrottled &&
      (http_status >= 500 || code == "SignatureNonceUsed"))
    return ErrorClass::kOutcomeUnknown;
  return cls;
}

bool refresh_credentials_and_retry(std::string_view code) {
  return code == "InvalidSecurityToken.Expired";
}

Error error_from_response(std::string_view product, std::string_view action,
                          const HttpResponse& response, CallKind kind) {
  const ErrorBody body = parse_error_body(response.body);
  Error e;
  e.product = std::string(product);
  e.action = std::string(action);
  e.http_status = response.status;
  e.code = body.code.empty() ? "Http." + std::to_string(response.status) : redact::scrub(body.code);
  // A code is a metric label: keep it bounded even if a broken server sends a novel.
  if (e.code.size() > 128) e.code.resize(128);
  e.message = redact::scrub(body.message);
  if (!body.parsed && !response.body.empty()) {
    // Not an Alibaba error body (a proxy page, a load balancer): keep a short redacted excerpt.
    e.message = redact::scrub(response.body.substr(0, 200));
  }
  e.request_id = redact::scrub(body.request_id);
  e.recommend = redact::scrub_keep_urls(body.recommend);
  e.cls = classify(e.code, e.http_status, kind);
  return e;
}

}  // namespace sharekeeper::cloud
