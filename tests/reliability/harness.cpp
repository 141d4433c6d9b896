#include "harness.hpp"

#include <cstdio>
#include <cstdlib>

#include "../integration/emulated_time.hpp"
#include "../integration/emulator_client.hpp"
#include "reconcilers/apply.hpp"
#include "reconcilers/observe.hpp"
#include "reconcilers/render.hpp"

namespace sharekeeper::reliability {

using nlohmann::json;

bool Harness::is_write(const std::string& action) {
  for (const char* read : {"Get", "List", "Describe"})
    if (action.rfind(read, 0) == 0) return false;
  return true;
}

Harness::Harness(HarnessOptions options)
    : options_(options),
      emu_([&] {
        emulator::EmulatorOptions eo;
        eo.model.consistency_lag = options.consistency_lag;
        eo.model.association_delay = options.association_delay;
        return std::make_unique<emulator::Emulator>(eo);
      }()),
      checker_(*emu_) {
  emu_->start();
  emu_->server().set_commit_observer([this](const emulator::CommitEvent& e) {
    if (!is_write(e.action)) return;
    std::function<void(int, const std::string&)> hook;
    int n = 0;
    {
      const std::lock_guard<std::mutex> lock(hook_mutex_);
      n = ++writes_;
      hook = hook_;
    }
    if (hook) hook(n, e.action);
    if (std::getenv("SHAREKEEPER_RELIABILITY_TRACE") != nullptr) {
      std::string roles;
      const nlohmann::json state = emu_->model().state(
          emu_->server().clock().now());  // not a range-for over a temporary's member
      for (const auto& a : state["accounts"])
        if (a["uid"] == kSharer)
          for (const auto& r : a["roles"]) {
            roles += " " + r["name"].get<std::string>() + "{";
            for (const auto& u : trusted_accounts(r["trustPolicy"])) roles += u.substr(0, 4) + " ";
            roles += "}";
          }
      std::fprintf(stderr, "   write #%d %s -> %d%s\n", n, e.action.c_str(), e.status,
                   roles.c_str());
      for (const auto& s : state.value("resourceShares", nlohmann::json::array())) {
        std::string line = s.value("name", "") + " " + s.value("status", "") + ":";
        for (const auto& x : s.value("associations", nlohmann::json::array()))
          line += " " + x.value("entityId", "") + "=" + x.value("status", "");
        std::fprintf(stderr, "     %s\n", line.c_str());
      }
    }
    checker_.check("write #" + std::to_string(n) + " " + e.action);
  });
}

Harness::~Harness() {
  emu_->server().set_commit_observer({});
  emu_->stop();
}

void Harness::load(const WorldSpec& world, std::uint64_t fault_seed) {
  auto& server = emu_->server();
  server.faults().clear();
  server.faults().reseed(fault_seed);
  emu_->model().load_seed(seed(world));
  server.journal().clear();
  server.clock().reset();
  server.clear_nonces();
  fresh_client();
  desired_.reset();
  checker_.start_world();
}

void Harness::fresh_client() {
  {
    const std::lock_guard<std::mutex> lock(hook_mutex_);
    writes_ = 0;
    hook_ = {};
  }
  cloud::AlibabaClientOptions co =
      testing::emulator_client_options(emu_->url(), kAccessKeyId, kCanarySecret);
  co.timeout = options_.client_timeout;
  // Retry back-off moves the emulator's clock instead of waiting.
  co.clock = std::make_shared<testing::EmulatorTime>(emu_->server().clock(),
                                                     testing::EmulatorTime::Sleep::kMovesEmulator);
  co.random = [] { return 0.5; };
  co.page_size = options_.page_size;
  client_ = std::make_unique<cloud::AlibabaClient>(std::move(co));
}

Harness::Checkpoint Harness::checkpoint() {
  return {emu_->model().snapshot(), emu_->server().clock().offset(), desired_, checker_.memory()};
}

void Harness::restore(const Checkpoint& c) {
  auto& server = emu_->server();
  server.faults().clear();
  emu_->model().restore(*c.model);
  server.journal().clear();
  server.clock().set_offset(c.clock_offset);
  fresh_client();
  desired_ = c.desired;
  checker_.recall(c.checker);
}

bool Harness::configure(const ConfigSpec& config) {
  auto d = load_config(config);
  if (!d) return false;
  desired_ = std::move(d);
  checker_.set_config(*desired_);
  return true;
}

PassOutcome Harness::pass(const std::string& label) {
  PassOutcome out;
  if (!desired_) return out;
  const auto t0 = std::chrono::steady_clock::now();
  const std::uint64_t seq = last_seq();
  auto client_for = [this](const config::Account&) -> cloud::CloudApi* { return client_.get(); };
  const reconcilers::Plan p =
      reconcilers::plan(*desired_, reconcilers::observe(*desired_, client_for));
  checker_.check_output(reconcilers::render_text(p), label + " plan text");
  if (std::getenv("SHAREKEEPER_RELIABILITY_PLANS") != nullptr)
    std::fprintf(stderr, "%s\n", reconcilers::render_text(p).c_str());
  checker_.check_output(reconcilers::render_json(p), label + " plan json");
  if (!p.has_changes()) {
    out.converged = !p.has_errors();
  } else {
    reconcilers::ApplyOptions ao;
    ao.clock = std::make_shared<testing::EmulatorTime>(
        emu_->server().clock(), testing::EmulatorTime::Sleep::kMovesEmulator);
    const reconcilers::ApplyResult r = reconcilers::apply(*desired_, p, client_for, ao);
    checker_.check_output(reconcilers::render_apply_text(r), label + " apply text");
    out.converged = r.converged();
    out.writes = r.writes();
  }
  checker_.check(label + " end");
  out.calls = actions_since(seq).size();
  if (std::getenv("SHAREKEEPER_RELIABILITY_TRACE") != nullptr)
    std::fprintf(
        stderr, "   pass %s: %llu calls, %d writes, %s, %.0f ms\n", label.c_str(),
        static_cast<unsigned long long>(out.calls), out.writes,
        out.converged ? "converged" : "not converged",
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  return out;
}

bool Harness::settle(int max_passes, const std::string& label) {
  if (!desired_) return true;
  for (int i = 1; i <= max_passes; ++i) {
    if (i > 1 && options_.settle_interval.count() > 0) {
      auto& clock = emu_->server().clock();
      clock.set_offset(clock.offset() + options_.settle_interval);
    }
    if (!pass(label + " settle " + std::to_string(i)).converged) continue;
    auto client_for = [this](const config::Account&) -> cloud::CloudApi* { return client_.get(); };
    const reconcilers::Plan p =
        reconcilers::plan(*desired_, reconcilers::observe(*desired_, client_for));
    if (p.has_changes() || p.has_errors()) continue;
    checker_.check_grants(p.grants, label + " settled");
    return true;
  }
  checker_.report_unconverged(label + ": no convergence in " + std::to_string(max_passes) +
                              " passes");
  return false;
}

void Harness::out_of_band(const std::function<void(cloud::CloudApi&)>& edit) {
  checker_.pause();
  auto person = testing::emulator_client(emu_->url(), kAccessKeyId, kCanarySecret);
  edit(*person);
  checker_.resume();
}

void Harness::add_faults(const json& rules) { emu_->server().faults().add(rules); }
void Harness::clear_faults() { emu_->server().faults().clear(); }

std::vector<std::string> Harness::actions_since(std::uint64_t seq) const {
  std::vector<std::string> out;
  for (const auto& e : emu_->server().journal().entries())
    if (e.seq > seq) out.push_back(e.action);
  return out;
}

std::uint64_t Harness::last_seq() const {
  const auto entries = emu_->server().journal().entries();
  return entries.empty() ? 0 : entries.back().seq;
}

int Harness::writes() {
  const std::lock_guard<std::mutex> lock(hook_mutex_);
  return writes_;
}

void Harness::on_write(std::function<void(int, const std::string&)> hook) {
  const std::lock_guard<std::mutex> lock(hook_mutex_);
  hook_ = std::move(hook);
}

}  // namespace sharekeeper::reliability
