#include "coordination/fenced_transport.hpp"

namespace sharekeeper::coordination {

FencedTransport::FencedTransport(std::shared_ptr<cloud::Transport> inner,
                                 std::shared_ptr<Fence> fence, std::string account)
    : inner_(std::move(inner)), fence_(std::move(fence)), account_(std::move(account)) {}

cloud::Result<cloud::HttpResponse> FencedTransport::send(const cloud::HttpRequest& request,
                                                         std::chrono::milliseconds timeout) {
  const Fence::Admission a = fence_->admit(account_, timeout);
  if (a.verdict != Fence::Verdict::kAdmitted) {
    cloud::Error e;
    e.product = "coordination";
    e.cls = cloud::ErrorClass::kTerminal;  // nothing was sent; retrying in the call cannot help
    if (a.verdict == Fence::Verdict::kNotOwner) {
      e.code = "Coordination.NotOwner";
      e.message = "not sent: this replica does not own account " + account_ + " (now)";
    } else {
      e.code = "Coordination.LeaseExpiring";
      e.message = "not sent: " + std::to_string(a.lease_left.count()) +
                  " ms of etcd lease left, a request may take " +
                  std::to_string(a.timeout.count()) + " ms plus a " +
                  std::to_string(fence_->margin().count()) + " ms margin";
    }
    return e;
  }
  auto r = inner_->send(request, a.timeout);
  fence_->finish(account_);
  return r;
}

}  // namespace sharekeeper::coordination
