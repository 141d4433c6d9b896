#pragma once
// FencedTransport: the Transport in front of one account's cloud client (CloudFactory wraps the
// shared HTTPS transport with one per account). Every HTTP attempt of that client -- retries and
// chunked calls included, which a CloudApi-level check could not see -- asks the Fence first and is
// sent with the deadline the fence admitted (capped at the fence's max_request). A refused request
// never leaves the process: it fails with product "coordination", code "Coordination.NotOwner"
// (this replica does not hold the account) or "Coordination.LeaseExpiring" (too little lease time
// left for the request's deadline plus the margin), class kTerminal so the client does not retry
// it. The reconcilers never learn that etcd exists.
//
// Thread-safe (as the inner transport and the fence are).
#include <memory>
#include <string>

#include "cloud/http.hpp"
#include "coordination/fence.hpp"

namespace sharekeeper::coordination {

class FencedTransport final : public cloud::Transport {
 public:
  FencedTransport(std::shared_ptr<cloud::Transport> inner, std::shared_ptr<Fence> fence,
                  std::string account);

  cloud::Result<cloud::HttpResponse> send(const cloud::HttpRequest& request,
                                          std::chrono::milliseconds timeout) override;

 private:
  std::shared_ptr<cloud::Transport> inner_;
  std::shared_ptr<Fence> fence_;
  std::string account_;
};

}  // namespace sharekeeper::coordination
