#pragma once
// Where each product's calls go (docs/alibaba-api.md §3-§7): RAM global, STS central or
// regional, ECS/KMS/Resource Sharing regional (ECS in cn-hangzhou is
// "ecs-cn-hangzhou.aliyuncs.com"). Overridable per product with a URL template containing
// "{region}" (config `settings.endpoints`) and all at once with `--endpoint-override URL` (e.g. the
// emulator). Plain http:// only when an override says so.
//
// Thread-safety: immutable after construction; resolve() is const and thread-safe.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "cloud/result.hpp"

namespace sharekeeper::cloud {

struct Endpoint {
  std::string scheme = "https";
  std::string host;
  std::uint16_t port = 443;
  // The host the call addresses when the connection goes elsewhere (`override_all`): the product's
  // own host name, e.g. "resourcesharing.cn-shanghai.aliyuncs.com", sent as the Host header (as
  // `curl --connect-to` does). Alibaba's gateway takes the product and, for Resource Sharing and
  // KMS, whose calls carry no RegionId, the region from it; so does the emulator. Empty: the Host
  // is host[:port].
  std::string virtual_host;
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
  // virtual_host, else "host" or "host:port" when the port is not the scheme's default: the Host
  // header and V3's signed host.
  std::string host_header() const;
  std::string url() const;  // "https://host[:port]": where the connection goes
};

// Parses "scheme://host[:port][/]" (no user info, path, query or fragment; IPv6 in brackets).
// http:// is accepted only with allow_http (overrides).
Result<Endpoint> parse_endpoint_url(std::string_view url, bool allow_http);

// A region id as Alibaba spells them ("cn-hangzhou", "ap-southeast-1"): it becomes part of a host
// name.
bool valid_region_id(std::string_view region);

struct EndpointOptions {
  // product -> URL template, e.g. {"ecs", "https://ecs-vpc.{region}.aliyuncs.com"}.
  std::map<std::string, std::string, std::less<>> product_overrides;
  // Every product's connections to this URL (wins over product_overrides); each call's Host header
  // stays the endpoint it would have addressed otherwise (Endpoint::virtual_host).
  std::optional<std::string> override_all;
  // STS: sts.<region>.aliyuncs.com instead of the central sts.aliyuncs.com when a region is given.
  bool sts_regional = false;
};

class EndpointResolver {
 public:
  // Default public endpoints, no overrides.
  EndpointResolver() = default;
  // Validates every override (scheme, host, {region} substitution) up front.
  static Result<EndpointResolver> create(EndpointOptions options);

  // product: "ram" | "sts" | "resourcemanager" | "ecs" | "kms" | "resourcesharing". region may be
  // empty for the global ones (ram, sts, resourcemanager).
  Result<Endpoint> resolve(std::string_view product, std::string_view region) const;

 private:
  explicit EndpointResolver(EndpointOptions options) : options_(std::move(options)) {}
  // The endpoint a call addresses without override_all (product_overrides, else the default).
  Result<Endpoint> addressed_endpoint(std::string_view product, std::string_view region) const;
  EndpointOptions options_;
};

}  // namespace sharekeeper::cloud
