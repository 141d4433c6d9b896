#pragma once
// `sharekeeper-emulator` as a library: a Model (the cloud's state and products) behind a Server
// (the wire protocol), started in-process on a listen address (port 0 picks a free one) over HTTP
// or HTTPS. Tests start it on port 0; the binary (main.cpp) wraps it with flags and signals.
//
// Thread-safe as Server is: start()/stop() from the owner thread, accessors from anywhere.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "emulator/model.hpp"
#include "emulator/server.hpp"

namespace sharekeeper::emulator {

enum class TlsMode {
  kNone,        // plain HTTP
  kSelfSigned,  // a fresh P-256 certificate for 127.0.0.1/localhost (see certificate_pem())
  kFiles,       // tls_cert_file + tls_key_file
};

struct EmulatorOptions {
  std::string listen = "127.0.0.1:0";  // host:port, [v6]:port
  std::optional<nlohmann::json> seed;  // docs/contract.md §3.5; none = an empty cloud
  TlsMode tls = TlsMode::kNone;
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string cert_out;  // where to write the serving certificate (PEM), if set
  ModelOptions model;
  ServerOptions server;  // host/port/tls/certificate fields are filled from the fields above
};

class Emulator {
 public:
  explicit Emulator(EmulatorOptions options = {});
  ~Emulator();
  Emulator(const Emulator&) = delete;
  Emulator& operator=(const Emulator&) = delete;

  // Loads the seed, prepares TLS, binds and starts serving. Throws SeedError for a malformed seed
  // and std::runtime_error for an address that cannot be bound or unreadable certificate files.
  void start();
  void stop();

  std::uint16_t port() const;
  std::string url() const;  // http(s)://HOST:PORT
  // The serving certificate (PEM): what clients must trust. Empty over plain HTTP.
  const std::string& certificate_pem() const { return certificate_pem_; }

  Model& model() { return *model_; }
  Server& server() { return *server_; }

 private:
  EmulatorOptions options_;
  std::string host_;
  std::uint16_t requested_port_ = 0;
  std::string certificate_pem_;
  std::unique_ptr<Model> model_;
  std::unique_ptr<Server> server_;
};

// Splits "host:port" / "[v6]:port"; throws std::invalid_argument.
std::pair<std::string, std::uint16_t> parse_listen_address(const std::string& listen);

}  // namespace sharekeeper::emulator
