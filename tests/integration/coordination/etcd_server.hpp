#pragma once
// A real etcd (Debian's etcd-server, 3.4) started by the test on loopback ports in a temp dir: the
// coordination tests never mock it. Plain http by default, or TLS with client-certificate auth
// (certificates made with the openssl CLI). Stop, pause (SIGSTOP: reachable TCP, no answers) and
// restart on the same data dir and ports. Tests skip, saying why, only when the binary is missing.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "../daemon_harness.hpp"

namespace sharekeeper::coordination::testing {

namespace fs = std::filesystem;
using daemon::testing::eventually;
using daemon::testing::Process;
using daemon::testing::read_file;
using namespace std::chrono_literals;

// The etcd (or etcdctl) binary: $SHAREKEEPER_ETCD / $SHAREKEEPER_ETCDCTL, else on PATH.
inline std::optional<std::string> find_binary(const char* name, const char* env) {
  if (const char* e = std::getenv(env); e != nullptr && *e != '\0') return std::string(e);
  const char* path = std::getenv("PATH");
  std::string p = path != nullptr ? path : "/usr/bin:/bin";
  for (std::size_t at = 0; at <= p.size();) {
    const auto colon = p.find(':', at);
    const std::string dir =
        p.substr(at, colon == std::string::npos ? std::string::npos : colon - at);
    const fs::path candidate = fs::path(dir.empty() ? "." : dir) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
    if (colon == std::string::npos) break;
    at = colon + 1;
  }
  return std::nullopt;
}
inline std::optional<std::string> etcd_binary() { return find_binary("etcd", "SHAREKEEPER_ETCD"); }
inline std::optional<std::string> etcdctl_binary() {
  return find_binary("etcdctl", "SHAREKEEPER_ETCDCTL");
}

#define SK_REQUIRE_ETCD()                                                                   \
  do {                                                                                      \
    if (!::sharekeeper::coordination::testing::etcd_binary())                               \
      GTEST_SKIP() << "etcd is not installed (apt-get install etcd-server etcd-client, as " \
                      "scripts/install-deps.sh does); this test needs a real etcd";         \
  } while (0)

// A port nobody listens on right now (bind to 0, read it, close). etcd cannot report a port it
// chose itself, so there is a small race with other processes; start() retries on it.
inline std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

inline int run_command(const std::string& cmd) {
  return std::system((cmd + " >/dev/null 2>&1").c_str());
}

// CA, server certificate for 127.0.0.1 and a client certificate, all in `dir`.
struct TestPki {
  explicit TestPki(const fs::path& d) : dir(d) {
    const std::string q = "'" + dir.string() + "'";
    auto ok = [](int rc, const char* what) {
      if (rc != 0) throw std::runtime_error(std::string("openssl failed: ") + what);
    };
    ok(run_command("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=test-ca -keyout " +
                   q + "/ca-key.pem -out " + q + "/ca.pem"),
       "ca");
    std::ofstream(dir / "server.ext") << "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                                         "extendedKeyUsage=serverAuth,clientAuth\n";
    std::ofstream(dir / "client.ext") << "extendedKeyUsage=clientAuth\n";
    for (const char* who : {"server", "client"}) {
      const std::string w = q + "/" + who;
      ok(run_command("openssl req -newkey rsa:2048 -nodes -subj /CN=" + std::string(who) +
                     " -keyout " + w + "-key.pem -out " + w + ".csr"),
         who);
      ok(run_command("openssl x509 -req -in " + w + ".csr -CA " + q + "/ca.pem -CAkey " + q +
                     "/ca-key.pem -CAcreateserial -days 2 -extfile " + w + ".ext -out " + w +
                     ".pem"),
         who);
    }
  }
  fs::path dir;
  fs::path ca() const { return dir / "ca.pem"; }
  fs::path server_cert() const { return dir / "server.pem"; }
  fs::path server_key() const { return dir / "server-key.pem"; }
  fs::path client_cert() const { return dir / "client.pem"; }
  fs::path client_key() const { return dir / "client-key.pem"; }
};

struct EtcdServerOptions {
  const TestPki* tls = nullptr;  // TLS with client-certificate auth
};

class EtcdServer {
 public:
  using Options = EtcdServerOptions;

  explicit EtcdServer(fs::path dir, Options options = Options())
      : dir_(std::move(dir)), options_(options) {
    fs::create_directories(dir_);
    for (int attempt = 0; attempt < 3; ++attempt) {
      client_port_ = free_port();
      peer_port_ = free_port();
      if (start_process()) return;
      proc_.reset();
    }
    throw std::runtime_error("etcd did not start: " + read_file(dir_ / "etcd.err"));
  }
  ~EtcdServer() { resume(); }

  std::string endpoint() const {
    return std::string(options_.tls ? "https" : "http") +
           "://127.0.0.1:" + std::to_string(client_port_);
  }
  std::uint16_t port() const { return client_port_; }

  // SIGKILL (a crash; the data dir stays).
  void kill() {
    if (!proc_) return;
    resume();
    proc_->signal(SIGKILL);
    proc_->wait(10s);
    proc_.reset();
  }
  // Same data dir, same ports: leases and keys survive.
  void restart() {
    kill();
    if (!start_process())
      throw std::runtime_error("etcd did not restart: " + read_file(dir_ / "etcd.err"));
  }
  // SIGSTOP: connections are accepted by the kernel but nothing answers (a hung or partitioned
  // etcd).
  // kill(SIGSTOP) returns before a thread running on another core has stopped: wait until every
  // thread of etcd is in state T, or a request sent right after pause() may still be answered.
  void pause() {
    if (proc_ && !paused_) {
      proc_->signal(SIGSTOP);
      paused_ = true;
      const auto pid = proc_->pid();
      if (!daemon::testing::eventually([&] { return all_threads_stopped(pid); }, 10s))
        throw std::runtime_error("etcd did not stop after SIGSTOP");
    }
  }
  void resume() {
    if (proc_ && paused_) {
      proc_->signal(SIGCONT);
      paused_ = false;
    }
  }
  bool running() { return proc_ && proc_->running(); }
  static bool all_threads_stopped(pid_t pid) {
    const fs::path tasks = fs::path("/proc") / std::to_string(pid) / "task";
    std::error_code ec;
    for (const auto& t : fs::directory_iterator(tasks, ec)) {
      const std::string stat = read_file(t.path() / "stat");
      const auto close = stat.rfind(')');  // the command name may hold spaces and parentheses
      if (close == std::string::npos || close + 2 >= stat.size()) return false;
      const char state = stat[close + 2];
      if (state != 'T' && state != 't') return false;
    }
    return !ec;
  }
  std::string logs() const { return read_file(dir_ / "etcd.err"); }

  // etcdctl against this server (with the test PKI when TLS is on).
  int ctl(const std::string& args) const {
    auto bin = etcdctl_binary();
    if (!bin) return 127;
    std::string cmd = "ETCDCTL_API=3 '" + *bin + "' --endpoints=" + endpoint();
    if (options_.tls)
      cmd += " --cacert='" + options_.tls->ca().string() + "' --cert='" +
             options_.tls->client_cert().string() + "' --key='" +
             options_.tls->client_key().string() + "'";
    return run_command(cmd + " " + args);
  }

 private:
  bool start_process() {
    const std::string scheme = options_.tls ? "https" : "http";
    const std::string client = scheme + "://127.0.0.1:" + std::to_string(client_port_);
    const std::string peer = "http://127.0.0.1:" + std::to_string(peer_port_);
    std::vector<std::string> argv{*etcd_binary(),
                                  "--name",
                                  "test",
                                  "--data-dir",
                                  (dir_ / "data").string(),
                                  "--listen-client-urls",
                                  client,
                                  "--advertise-client-urls",
                                  client,
                                  "--listen-peer-urls",
                                  peer,
                                  "--initial-advertise-peer-urls",
                                  peer,
                                  "--initial-cluster",
                                  "test=" + peer,
                                  "--logger",
                                  "zap",
                                  "--log-level",
                                  "warn"};
    if (options_.tls) {
      for (const std::string& a : {std::string("--cert-file"), options_.tls->server_cert().string(),
                                   std::string("--key-file"), options_.tls->server_key().string(),
                                   std::string("--trusted-ca-file"), options_.tls->ca().string(),
                                   std::string("--client-cert-auth")})
        argv.push_back(a);
    }
    proc_ = std::make_unique<Process>(argv, dir_ / "etcd.out", dir_ / "etcd.err");
    // Healthy = a leader and a working store; ETCDCTL is not needed for it.
    return eventually(
               [&] {
                 if (!proc_->running()) return true;
                 if (options_.tls) return ctl("endpoint health") == 0;
                 return daemon::testing::http_request(client_port_, "GET", "/health")
                            .body.find("\"health\":\"true\"") != std::string::npos;
               },
               20s) &&
           proc_->running();
  }

  fs::path dir_;
  Options options_;
  std::uint16_t client_port_ = 0;
  std::uint16_t peer_port_ = 0;
  std::unique_ptr<Process> proc_;
  bool paused_ = false;
};

}  // namespace sharekeeper::coordination::testing
