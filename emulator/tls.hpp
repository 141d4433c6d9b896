#pragma once
// Self-signed certificates for `--tls-self-signed`: a P-256 key and an X.509 v3 certificate whose
// SANs are 127.0.0.1, ::1 and localhost, so clients that verify host names (ours, the Node SDK, the
// aliyun CLI) can trust it by loading the certificate written with --cert-out as their CA.
#include <chrono>
#include <string>
#include <vector>

namespace sharekeeper::emulator {

struct PemPair {
  std::string certificate;  // PEM "CERTIFICATE"
  std::string private_key;  // PEM "PRIVATE KEY" (PKCS#8)
};

struct SelfSignedOptions {
  std::string common_name = "sharekeeper-emulator";
  std::vector<std::string> dns_names = {"localhost"};
  std::vector<std::string> ip_addresses = {"127.0.0.1", "::1"};
  std::chrono::hours validity{24 * 365};
};

// Throws std::runtime_error with OpenSSL's reason on failure.
PemPair make_self_signed_certificate(const SelfSignedOptions& options = {});

// Reads a whole file (certificates, keys); throws std::runtime_error naming the path.
std::string read_file(const std::string& path);
// Writes a whole file (certificate out, port file) atomically via a temporary and rename.
void write_file(const std::string& path, const std::string& content);

}  // namespace sharekeeper::emulator
