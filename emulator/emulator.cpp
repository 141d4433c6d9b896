#include "emulator/emulator.hpp"

#include <stdexcept>
#include <tuple>

#include "emulator/tls.hpp"

namespace sharekeeper::emulator {

std::pair<std::string, std::uint16_t> parse_listen_address(const std::string& listen) {
  std::string host;
  std::string port;
  if (!listen.empty() && listen.front() == '[') {
    const auto close = listen.find(']');
    if (close == std::string::npos || close + 1 >= listen.size() || listen[close + 1] != ':') {
      throw std::invalid_argument("listen address must be [v6]:port: " + listen);
    }
    host = listen.substr(1, close - 1);
    port = listen.substr(close + 2);
  } else {
    const auto colon = listen.rfind(':');
    if (colon == std::string::npos) {
      throw std::invalid_argument("listen address must be host:port: " + listen);
    }
    host = listen.substr(0, colon);
    port = listen.substr(colon + 1);
  }
  if (host.empty() || port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos || std::stoul(port) > 65535) {
    throw std::invalid_argument("listen address must be host:port with port 0-65535: " + listen);
  }
  return {host, static_cast<std::uint16_t>(std::stoul(port))};
}

Emulator::Emulator(EmulatorOptions options) : options_(std::move(options)) {
  std::tie(host_, requested_port_) = parse_listen_address(options_.listen);
  model_ = std::make_unique<Model>(options_.model);
}

Emulator::~Emulator() { stop(); }

void Emulator::start() {
  if (server_) throw std::logic_error("Emulator::start called twice");
  if (options_.seed) model_->load_seed(*options_.seed);

  ServerOptions server = options_.server;
  server.host = host_;
  server.port = requested_port_;
  switch (options_.tls) {
    case TlsMode::kNone:
      server.tls = false;
      break;
    case TlsMode::kSelfSigned: {
      PemPair pair = make_self_signed_certificate();
      server.tls = true;
      server.certificate_pem = pair.certificate;
      server.private_key_pem = std::move(pair.private_key);
      break;
    }
    case TlsMode::kFiles:
      server.tls = true;
      server.certificate_pem = read_file(options_.tls_cert_file);
      server.private_key_pem = read_file(options_.tls_key_file);
      break;
  }
  certificate_pem_ = server.certificate_pem;
  server_ = std::make_unique<Server>(*model_, std::move(server));
  server_->start();
  if (!options_.cert_out.empty()) {
    if (certificate_pem_.empty()) throw std::runtime_error("--cert-out needs TLS");
    write_file(options_.cert_out, certificate_pem_);
  }
}

void Emulator::stop() {
  if (server_) server_->stop();
}

std::uint16_t Emulator::port() const { return server_ ? server_->port() : 0; }

std::string Emulator::url() const {
  const std::string scheme = options_.tls == TlsMode::kNone ? "http" : "https";
  const std::string host = host_.find(':') != std::string::npos ? "[" + host_ + "]" : host_;
  return scheme + "://" + host + ":" + std::to_string(port());
}

}  // namespace sharekeeper::emulator
