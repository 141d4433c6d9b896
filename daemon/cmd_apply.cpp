// `sharekeeper apply -c PATH [--auto-approve]`: one converge pass. Prints the plan; without
// --auto-approve asks for "yes" on a terminal and refuses when stdin is not one (a pipeline must
// say
// --auto-approve explicitly). Then applies in stages, re-observes, and prints what it did and what
// still differs. Exit 0 when converged or nothing to do, 1 otherwise (errors, or differences left).
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>

#include "cloud/rate_limiter.hpp"
#include "daemon/cloud_factory.hpp"
#include "daemon/commands.hpp"
#include "reconcilers/apply.hpp"
#include "reconcilers/render.hpp"
#include "support/clock.hpp"

namespace sharekeeper::daemon {

int cmd_apply(const GlobalOptions& g, const ApplyOptions& o) {
  support::Clock& clock = *support::SystemClock::shared();
  const auto started = clock.now();
  CliSession s;
  if (!open_cli_session(g, o.config_path, s)) return 1;
  const auto opened = clock.now();
  reconcilers::Observation observed;
  reconcilers::Plan p = plan_cli_session(s, &observed);
  const auto planned = clock.now();
  // With --log-level debug, where the pass's time went, on stderr (bench/converge reads this line):
  // loading, observing and planning, writing and verifying; the calls verification made; the
  // client's own pacing (cloud::rate_limiter_totals).
  const auto report = [&](const reconcilers::ApplyResult* r) {
    if (g.log_level != "debug") return;
    const auto seconds = [](auto d) { return std::chrono::duration<double>(d).count(); };
    int observe_calls = 0;
    for (const auto& [name, a] : observed.accounts) observe_calls += a.calls;
    const cloud::RateLimiterTotals limiter = cloud::rate_limiter_totals();
    std::fprintf(stderr,
                 "apply timing: load_s=%.3f observe_plan_s=%.3f apply_verify_s=%.3f "
                 "observe_calls=%d writes=%d verify_rounds=%d verify_calls=%d "
                 "limiter_reservations=%llu limiter_waited=%llu limiter_wait_s=%.3f\n",
                 seconds(opened - started), seconds(planned - opened),
                 seconds(clock.now() - planned), observe_calls, r ? r->writes() : 0,
                 r ? r->verify_rounds : 0, r ? r->verify_calls : 0,
                 static_cast<unsigned long long>(limiter.reservations),
                 static_cast<unsigned long long>(limiter.waited), seconds(limiter.wait));
  };
  std::string text = reconcilers::render_text(p);
  std::fwrite(text.data(), 1, text.size(), stdout);
  if (!p.has_changes()) {
    std::printf("\nNo changes to apply.\n");
    report(nullptr);
    return p.has_errors() ? 1 : 0;
  }
  if (!o.auto_approve) {
    if (isatty(STDIN_FILENO) == 0) {
      std::fprintf(stderr,
                   "sharekeeper: refusing to apply without --auto-approve: stdin is not a "
                   "terminal\n");
      return 1;
    }
    std::printf("\nDo you want to apply these changes? Only 'yes' will be accepted: ");
    std::fflush(stdout);
    std::string answer;
    if (!std::getline(std::cin, answer) || answer != "yes") {
      std::printf("Apply cancelled.\n");
      return 1;
    }
  }
  std::fflush(stdout);
  reconcilers::ApplyResult r = reconcilers::apply(s.desired, observed, p, s.client_for());
  report(&r);
  std::string done = "\n" + reconcilers::render_apply_text(r);
  std::fwrite(done.data(), 1, done.size(), stdout);
  std::fflush(stdout);
  return r.converged() ? 0 : 1;
}

}  // namespace sharekeeper::daemon
