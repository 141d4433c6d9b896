#pragma once
// The AlibabaClient the integration tests point at an emulator (plain HTTP on loopback, one static
// access key): the reconcilers' client, or a person in the console. Throws on a setup failure.
#include <memory>
#include <stdexcept>
#include <string>

#include "cloud/alibaba_client.hpp"
#include "cloud/credential_providers.hpp"
#include "cloud/endpoints.hpp"
#include "cloud/transport.hpp"

namespace sharekeeper::testing {

// Options with transport, credentials and endpoints filled; adjust the rest before building.
inline cloud::AlibabaClientOptions emulator_client_options(const std::string& url,
                                                           const std::string& access_key_id,
                                                           const std::string& access_key_secret) {
  cloud::TransportOptions to;
  to.allow_http = true;
  auto t = cloud::HttpsTransport::create(to);
  if (!t.ok()) throw std::runtime_error("transport: " + t.error().to_string());
  cloud::EndpointOptions eo;
  eo.override_all = url;
  auto resolver = cloud::EndpointResolver::create(eo);
  if (!resolver.ok()) throw std::runtime_error("endpoints: " + resolver.error().to_string());
  cloud::Credentials creds;
  creds.access_key_id = access_key_id;
  creds.access_key_secret = access_key_secret;
  creds.provider = "static_ak";
  cloud::AlibabaClientOptions co;
  co.transport = std::shared_ptr<cloud::Transport>(std::move(t.value()));
  co.credentials = std::make_shared<cloud::StaticCredentialsProvider>(creds);
  co.endpoints = std::make_shared<const cloud::EndpointResolver>(std::move(resolver.value()));
  return co;
}

inline std::unique_ptr<cloud::AlibabaClient> emulator_client(const std::string& url,
                                                             const std::string& access_key_id,
                                                             const std::string& access_key_secret) {
  return std::make_unique<cloud::AlibabaClient>(
      emulator_client_options(url, access_key_id, access_key_secret));
}

}  // namespace sharekeeper::testing
