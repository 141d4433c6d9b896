#pragma once
// The emulator's API gateway: parses an RPC-style request (query + form body), resolves product and
// action, and verifies its V3 (ACS3-HMAC-SHA256) or V1 (HMAC-SHA1) signature the way
// docs/alibaba-api.md §1.5 describes, with the ±15 min timestamp window, the nonce replay cache
// and STS tokens. Knows no HTTP library: the server hands it a method, a target, lower-cased
// headers and the raw body.
//
// Shares no code with cloud/: its percent-encoding, canonicalisation and HMACs are written again
// here so a misunderstanding in the client is not mirrored in its test double.
//
// Thread-safe: verify() may be called concurrently (the nonce cache has its own mutex).
#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "emulator/model.hpp"

namespace sharekeeper::emulator {

enum class SignatureVersion { kNone, kV1, kV3 };
std::string_view to_string(SignatureVersion version);

// One request as received. `headers` holds lower-case names; repeated headers joined with ",".
struct GatewayRequest {
  std::string_view method;
  std::string_view target;  // origin-form: path[?query]
  const std::map<std::string, std::string>* headers = nullptr;
  std::string_view body;
};

// The verifier's verdict. On failure `code`, `status` and `message` are the gateway error; the
// product, action and version are filled as far as they could be resolved (for the journal).
struct Verification {
  bool ok = false;
  int status = 200;
  std::string code;
  std::string message;
  SignatureVersion signature = SignatureVersion::kNone;
  std::string product;  // ram | sts | ecs | kms | resourcesharing
  std::string version;
  std::string action;
  std::map<std::string, std::string> params;  // decoded query merged with the form body
  Caller caller;
};

// Finds the secret for an AccessKeyId (Model::find_key in the emulator; a table in tests).
using KeyLookup =
    std::function<std::optional<KeyRecord>(std::string_view access_key_id, Clock::time_point now)>;

struct VerifierOptions {
  // The gateway tolerates about 15 minutes of skew either way (docs/alibaba-api.md §1.2).
  std::chrono::seconds window{15 * 60};
  // Bounds memory under a flood of unique nonces; the oldest entries go first.
  std::size_t max_nonces = 1'000'000;
  // Answer InvalidVersion / InvalidAction.NotFound for what the catalogue does not know. Off only
  // to check signatures of other products' published examples (IMS, RunInstances) in tests.
  bool check_catalogue = true;
};

class Verifier {
 public:
  explicit Verifier(KeyLookup lookup, VerifierOptions options = {});

  // `now` is the emulated clock (the server's, which /_emulator/clock can move).
  Verification verify(const GatewayRequest& request, Clock::time_point now);

  // Forgets every nonce seen (POST /_emulator/reset).
  void clear_nonces();
  std::size_t nonce_count() const;

 private:
  void forget_expired_nonces(Clock::time_point now);  // nonce_mutex_ held
  // Returns false when the nonce was already used inside the window; records it otherwise.
  bool remember_nonce(const std::string& key, Clock::time_point request_time,
                      Clock::time_point now);

  KeyLookup lookup_;
  VerifierOptions options_;
  mutable std::mutex nonce_mutex_;
  std::unordered_map<std::string, Clock::time_point> nonces_;   // key -> forget after
  std::multimap<Clock::time_point, std::string> nonce_expiry_;  // forget after -> key
};

// --- Building blocks, public so tests (and the server's admin routes) can use them.
// -----------------

// Product name for an API version ("2015-05-01" -> "ram"), or nullopt.
std::optional<std::string_view> product_for_version(std::string_view version);
// Whether the gateway's catalogue knows the action for that product (docs/alibaba-api.md §3-§7 and
// their neighbours). The model answers for what it implements; an unknown name never reaches it.
bool action_exists(std::string_view product, std::string_view action);

// RFC 3986 encoding used by both signature versions: unreserved A-Z a-z 0-9 - _ . ~ kept, every
// other byte %XY with upper-case hex (space -> %20, never +).
std::string pct_encode(std::string_view raw);
// Form decoding: '+' is space, %XY decoded; a malformed escape is kept literally (as Node's
// querystring does).
std::string form_decode(std::string_view encoded);
// Splits "a=1&b=2" into decoded pairs, in wire order.
std::vector<std::pair<std::string, std::string>> parse_form(std::string_view encoded);

// "yyyy-MM-ddTHH:mm:ssZ" (UTC, no fraction) -> time point; nullopt when malformed.
std::optional<Clock::time_point> parse_timestamp(std::string_view text);
std::string format_timestamp(Clock::time_point time);

// Hashes over OpenSSL.
std::string sha256_hex(std::string_view data);
std::string hmac_sha256_hex(std::string_view key, std::string_view data);
std::string hmac_sha1_base64(std::string_view key, std::string_view data);

// V1 string-to-sign for a decoded parameter map (which must not contain Signature).
std::string v1_string_to_sign(std::string_view method,
                              const std::map<std::string, std::string>& params);

}  // namespace sharekeeper::emulator
