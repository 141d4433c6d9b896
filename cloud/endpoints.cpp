#include "cloud/endpoints.hpp"

#include <charconv>

#include "cloud/errors.hpp"

namespace sharekeeper::cloud {
namespace {

Error endpoint_error(std::string message) {
  Error e;
  e.product = "endpoints";
  e.action = "Resolve";
  e.code = std::string(kCodeInvalidEndpoint);
  e.message = std::move(message);
  e.cls = ErrorClass::kTerminal;
  return e;
}

bool host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.';
}

std::string substitute(std::string_view tmpl, std::string_view region) {
  std::string out;
  constexpr std::string_view kVar = "{region}";
  std::size_t pos = 0;
  for (;;) {
    const auto hit = tmpl.find(kVar, pos);
    out.append(
        tmpl.substr(pos, hit == std::string_view::npos ? std::string_view::npos : hit - pos));
    if (hit == std::string_view::npos) break;
    out.append(region);
    pos = hit + kVar.size();
  }
  return out;
}

bool regional(std::string_view product) {
  return product == "ecs" || product == "kms" || product == "resourcesharing";
}

// ResourceManager is central like RAM: one endpoint whatever the region.
bool global(std::string_view product) {
  return product == "ram" || product == "sts" || product == "resourcemanager";
}

}  // namespace

namespace {

std::string authority_of(const Endpoint& ep) {
  const bool default_port =
      (ep.scheme == "https" && ep.port == 443) || (ep.scheme == "http" && ep.port == 80);
  const bool v6 = ep.host.find(':') != std::string::npos;
  std::string h = v6 ? "[" + ep.host + "]" : ep.host;
  if (!default_port) h += ":" + std::to_string(ep.port);
  return h;
}

}  // namespace

std::string Endpoint::host_header() const {
  return virtual_host.empty() ? authority_of(*this) : virtual_host;
}

std::string Endpoint::url() const { return scheme + "://" + authority_of(*this); }

bool valid_region_id(std::string_view region) {
  if (region.empty() || region.size() > 64) return false;
  if (region.front() == '-' || region.back() == '-') return false;
  for (const char c : region) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

Result<Endpoint> parse_endpoint_url(std::string_view url, bool allow_http) {
  Endpoint ep;
  const auto sep = url.find("://");
  if (sep == std::string_view::npos)
    return endpoint_error("endpoint URL needs a scheme: " + std::string(url));
  const std::string_view scheme = url.substr(0, sep);
  if (scheme == "https") {
    ep.scheme = "https";
    ep.port = 443;
  } else if (scheme == "http") {
    if (!allow_http) return endpoint_error("plain http:// is allowed only for endpoint overrides");
    ep.scheme = "http";
    ep.port = 80;
  } else {
    return endpoint_error("unsupported endpoint scheme: " + std::string(scheme));
  }
  std::string_view rest = url.substr(sep + 3);
  if (rest.ends_with("/")) rest.remove_suffix(1);
  if (rest.find_first_of("/?#@") != std::string_view::npos) {
    return endpoint_error(
        "endpoint URL must be scheme://host[:port] (no path, query or user info): " +
        std::string(url));
  }
  std::string_view port_text;
  if (rest.starts_with("[")) {  // [IPv6]:port
    const auto close = rest.find(']');
    if (close == std::string_view::npos)
      return endpoint_error("unterminated IPv6 address: " + std::string(url));
    ep.host = std::string(rest.substr(1, close - 1));
    const std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (!after.starts_with(":")) return endpoint_error("bad endpoint URL: " + std::string(url));
      port_text = after.substr(1);
    }
  } else {
    const auto colon = rest.find(':');
    ep.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) port_text = rest.substr(colon + 1);
    for (const char c : ep.host) {
      if (!host_char(c))
        return endpoint_error("bad host name in endpoint URL: " + std::string(url));
    }
  }
  if (ep.host.empty()) return endpoint_error("endpoint URL has no host: " + std::string(url));
  if (!port_text.empty() || rest.ends_with(":")) {
    unsigned value = 0;
    const auto [ptr, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (ec != std::errc{} || ptr != port_text.data() + port_text.size() || value == 0 ||
        value > 65535) {
      return endpoint_error("bad port in endpoint URL: " + std::string(url));
    }
    ep.port = static_cast<std::uint16_t>(value);
  }
  return ep;
}

Result<EndpointResolver> EndpointResolver::create(EndpointOptions options) {
  if (options.override_all) {
    auto ep = parse_endpoint_url(*options.override_all, /*allow_http=*/true);
    if (!ep) return ep.error();
  }
  for (const auto& [product, tmpl] : options.product_overrides) {
    if (!global(product) && !regional(product)) {
      return endpoint_error("endpoint override for unknown product \"" + product + "\"");
    }
    auto ep = parse_endpoint_url(substitute(tmpl, "cn-hangzhou"), /*allow_http=*/true);
    if (!ep) {
      Error e = ep.error();
      e.message = "endpoints." + product + ": " + e.message;
      return e;
    }
  }
  return EndpointResolver(std::move(options));
}

Result<Endpoint> EndpointResolver::resolve(std::string_view product,
                                           std::string_view region) const {
  const bool needs_region = regional(product);
  if (!global(product) && !needs_region) {
    return endpoint_error("unknown product \"" + std::string(product) + "\"");
  }
  if (!region.empty() && !valid_region_id(region)) {
    return endpoint_error("invalid region id \"" + std::string(region) + "\"");
  }
  if (needs_region && region.empty()) {
    return endpoint_error(std::string(product) + " is regional: a region is required");
  }
  if (!options_.override_all) return addressed_endpoint(product, region);
  auto connect = parse_endpoint_url(*options_.override_all, true);
  if (!connect) return connect;
  // A template that cannot be filled in (no region) leaves the override's own Host.
  if (auto addressed = addressed_endpoint(product, region); addressed)
    connect->virtual_host = addressed->host_header();
  return connect;
}

Result<Endpoint> EndpointResolver::addressed_endpoint(std::string_view product,
                                                      std::string_view region) const {
  if (auto it = options_.product_overrides.find(product); it != options_.product_overrides.end()) {
    if (it->second.find("{region}") != std::string::npos && region.empty()) {
      return endpoint_error("endpoint template for " + std::string(product) + " needs a region");
    }
    return parse_endpoint_url(substitute(it->second, region), true);
  }

  Endpoint ep;
  if (product == "ram") {
    ep.host = "ram.aliyuncs.com";  // global: every region maps here
  } else if (product == "resourcemanager") {
    ep.host = "resourcemanager.aliyuncs.com";  // the SDK's endpoint rule is "central"
  } else if (product == "sts") {
    ep.host = (options_.sts_regional && !region.empty())
                  ? "sts." + std::string(region) + ".aliyuncs.com"
                  : "sts.aliyuncs.com";
  } else if (product == "ecs") {
    // The SDK's endpoint map spells Hangzhou with a hyphen; ecs.cn-hangzhou.aliyuncs.com is not it.
    ep.host = region == "cn-hangzhou" ? "ecs-cn-hangzhou.aliyuncs.com"
                                      : "ecs." + std::string(region) + ".aliyuncs.com";
  } else {
    ep.host = std::string(product) + "." + std::string(region) + ".aliyuncs.com";
  }
  return ep;
}

}  // namespace sharekeeper::cloud
