#include "coordination/ownership.hpp"

#include <algorithm>

#include "coordination/hrw.hpp"

namespace sharekeeper::coordination {

const char* to_string(Action::Kind k) {
  switch (k) {
    case Action::Kind::kWait:
      return "wait";
    case Action::Kind::kGrant:
      return "grant";
    case Action::Kind::kKeepAlive:
      return "keepalive";
    case Action::Kind::kJoin:
      return "join";
    case Action::Kind::kPoll:
      return "poll";
    case Action::Kind::kAcquire:
      return "acquire";
    case Action::Kind::kRelease:
      return "release";
    case Action::Kind::kRevoke:
      return "revoke";
    case Action::Kind::kDone:
      return "done";
  }
  return "unknown";
}

const char* to_string(AccountPhase p) {
  switch (p) {
    case AccountPhase::kFree:
      return "free";
    case AccountPhase::kOwned:
      return "owned";
    case AccountPhase::kDraining:
      return "draining";
    case AccountPhase::kClosing:
      return "closing";
  }
  return "unknown";
}

namespace {

// While a handover waits for requests in flight to end, look again this often.
constexpr Millis kIdleRecheck{20};

Action make(Action::Kind k) {
  Action a;
  a.kind = k;
  return a;
}

}  // namespace

OwnershipMachine::OwnershipMachine(OwnershipOptions options)
    : options_(std::move(options)), timing_(timing_for(options_.ttl)), keys_{options_.prefix} {
  if (options_.drain_timeout <= Millis(0)) options_.drain_timeout = timing_.ttl;
}

void OwnershipMachine::event(std::string kind, std::string account, std::string detail) {
  events_.push_back({std::move(kind), std::move(account), std::move(detail)});
}

std::vector<OwnershipMachine::Event> OwnershipMachine::take_events() {
  std::vector<Event> out;
  out.swap(events_);
  return out;
}

bool OwnershipMachine::wanted(const std::string& account) const {
  if (!lease_ || !member_ || stopping_ || accounts_.count(account) == 0) return false;
  const auto owner = hrw_owner(account, members_);
  return owner && *owner == options_.replica;
}

bool OwnershipMachine::writable(Time now) const {
  return lease_ && now + timing_.max_request + timing_.margin <= lease_->deadline;
}

void OwnershipMachine::close(const std::string& account, AccountState& st) {
  st.phase = AccountPhase::kClosing;
  st.closed_generation = ++generation_;
  event("closing", account, "the fence is closed; the key goes once requests in flight end");
  changed();
}

void OwnershipMachine::drop_all(const std::string& why) {
  bool any = false;
  for (auto& [name, st] : states_) {
    if (st.phase == AccountPhase::kFree) continue;
    st.phase = AccountPhase::kFree;
    event("lost", name, why);
    any = true;
  }
  candidates_.clear();
  if (any) ++generation_;
  changed();
}

void OwnershipMachine::set_accounts(const std::set<std::string>& accounts, Time now) {
  accounts_ = accounts;
  for (auto& [name, st] : states_) {
    if (accounts_.count(name) == 0 && st.phase == AccountPhase::kOwned) {
      st.phase = AccountPhase::kDraining;
      st.draining_since = now;
      event("draining", name, "left the config");
    }
  }
  // React to new accounts at once rather than at the next scheduled read.
  next_poll_ = std::min(next_poll_, now);
  changed();
}

void OwnershipMachine::pass_started(const std::string& account) { running_.insert(account); }
void OwnershipMachine::pass_finished(const std::string& account) { running_.erase(account); }

void OwnershipMachine::request_stop() {
  if (stopping_) return;
  stopping_ = true;
  event("stopping");
  changed();
}

void OwnershipMachine::fence_applied(std::uint64_t generation) {
  applied_generation_ = std::max(applied_generation_, generation);
}

Action OwnershipMachine::next(Time now, const IdleFn& idle) {
  if (done_) return make(Action::Kind::kDone);
  Time until = now + options_.poll_interval;
  auto soon = [&until, now](Time t) {
    if (t > now) until = std::min(until, t);
  };
  auto wait = [&until] {
    Action a = make(Action::Kind::kWait);
    a.until = until;
    return a;
  };

  // 1. A lease first: nothing else means anything without one.
  if (!lease_) {
    if (stopping_) {
      done_ = true;
      changed();
      return make(Action::Kind::kDone);
    }
    if (now >= next_grant_) {
      Action a = make(Action::Kind::kGrant);
      a.ttl = options_.ttl;
      return a;
    }
    soon(next_grant_);
    return wait();
  }

  // 2. Renewal before anything else: it is what keeps every other decision safe.
  if (now >= next_renew_ && !revoke_sent_) {
    Action a = make(Action::Kind::kKeepAlive);
    a.lease = lease_->id;
    return a;
  }
  soon(next_renew_);
  // The view changes with time at these two instants: wake for them.
  soon(lease_->deadline - timing_.max_request - timing_.margin);
  soon(lease_->deadline);

  // 3. Stop: close the fence for everything, wait for requests in flight, revoke the lease (which
  // deletes the member key and every owner key at once).
  if (stopping_) {
    for (auto& [name, st] : states_)
      if (st.phase == AccountPhase::kOwned || st.phase == AccountPhase::kDraining) close(name, st);
    bool all_idle = true;
    for (const auto& [name, st] : states_) all_idle = all_idle && idle(name);
    for (const auto& name : accounts_) all_idle = all_idle && idle(name);
    if (applied_generation_ < generation_) {
      until = now;
      return wait();
    }
    if (!all_idle) {
      soon(now + kIdleRecheck);
      return wait();
    }
    if (!revoke_sent_) {
      revoke_sent_ = true;
      Action a = make(Action::Kind::kRevoke);
      a.lease = lease_->id;
      return a;
    }
    return wait();
  }

  // 4. Join once the quarantine is over.
  if (!member_) {
    if (now < join_after_) {
      soon(join_after_);
    } else if (now >= next_join_) {
      Action a = make(Action::Kind::kJoin);
      a.key = keys_.member(options_.replica);
      a.value = options_.replica;
      a.lease = lease_->id;
      return a;
    } else {
      soon(next_join_);
    }
  }

  // 5. Read members and owners.
  if (now >= next_poll_) return make(Action::Kind::kPoll);
  soon(next_poll_);

  // 6. Handovers: a drained pass (or one past the drain timeout) closes the fence; a closed account
  // is deleted once the driver has applied that fence and nothing of it is in flight.
  for (auto& [name, st] : states_) {
    if (st.phase != AccountPhase::kDraining) continue;
    const Time give_up = st.draining_since + options_.drain_timeout;
    if (running_.count(name) == 0 || now >= give_up) {
      if (running_.count(name) != 0)
        event("abandoning", name, "the pass outlived the drain timeout");
      close(name, st);
    } else {
      soon(give_up);
    }
  }
  for (auto& [name, st] : states_) {
    if (st.phase != AccountPhase::kClosing) continue;
    if (applied_generation_ < st.closed_generation) {
      until = now;  // let the driver apply the closed fence first
      return wait();
    }
    if (now < st.retry_at) {
      soon(st.retry_at);
      continue;
    }
    if (!idle(name)) {
      soon(now + kIdleRecheck);
      continue;
    }
    Action a = make(Action::Kind::kRelease);
    a.key = keys_.owner(name);
    a.account = name;
    a.create_revision = st.create_revision;
    return a;
  }

  // 7. Take the free accounts we are the wanted owner of.
  while (!candidates_.empty()) {
    const std::string name = *candidates_.begin();
    candidates_.erase(candidates_.begin());
    auto it = states_.find(name);
    if (!wanted(name) || (it != states_.end() && it->second.phase != AccountPhase::kFree)) continue;
    Action a = make(Action::Kind::kAcquire);
    a.key = keys_.owner(name);
    a.value = options_.replica;
    a.account = name;
    a.lease = lease_->id;
    return a;
  }
  return wait();
}

void OwnershipMachine::on_granted(Time sent, std::int64_t lease, std::chrono::seconds ttl) {
  if (ttl.count() <= 0) {
    on_failure(sent, Action::Kind::kGrant);
    return;
  }
  lease_ = Lease{lease, ttl, sent + ttl};
  next_renew_ = sent + timing_.renew_every;
  // etcd may raise a short TTL: wait out whichever is longer.
  join_after_ =
      sent + std::max(timing_.quarantine, std::chrono::duration_cast<Millis>(ttl) + timing_.margin);
  next_join_ = join_after_;
  member_ = false;
  ++generation_;
  event("lease_granted", "",
        "lease " + std::to_string(lease) + ", ttl " + std::to_string(ttl.count()) +
            "s; joining after the quarantine");
  changed();
}

void OwnershipMachine::on_keepalive(Time sent, std::int64_t lease, std::chrono::seconds ttl) {
  if (!lease_ || lease_->id != lease) return;  // an answer about a lease we no longer hold
  if (ttl.count() <= 0) {
    ++renewals_lost_;
    event("lease_lost", "", "etcd no longer knows lease " + std::to_string(lease));
    drop_all("our lease expired");
    lease_.reset();
    member_ = false;
    members_.clear();
    next_grant_ = sent;
    return;
  }
  ++renewals_ok_;
  // Measured from the send: etcd renewed after it received the request, so its expiry is later.
  lease_->deadline = std::max(lease_->deadline, sent + ttl);
  next_renew_ = sent + timing_.renew_every;
  changed();
}

void OwnershipMachine::on_join(Time now, const CreateResult& r) {
  if (!lease_) return;
  if (r.created || (r.existing && r.existing->lease == lease_->id)) {
    if (!member_) event("joined", "", options_.replica);
    member_ = true;
    conflict_.clear();
    next_poll_ = now;  // learn the others at once
  } else {
    if (conflict_.empty())
      event("conflict", "",
            "another process holds the member key of replica id " + options_.replica);
    conflict_ = "replica id " + options_.replica + " is in use by another process";
    next_join_ = now + options_.poll_interval;
  }
  changed();
}

void OwnershipMachine::on_snapshot(Time sent, const std::vector<KeyValue>& kvs) {
  last_read_ = sent;
  next_poll_ = sent + options_.poll_interval;
  const std::string members_prefix = keys_.prefix + "/members/";
  const std::string owners_prefix = keys_.prefix + "/owners/";
  std::vector<std::string> members;
  std::map<std::string, const KeyValue*> owners;
  const KeyValue* mine = nullptr;
  for (const auto& kv : kvs) {
    if (kv.key.starts_with(members_prefix)) {
      std::string name = kv.key.substr(members_prefix.size());
      if (name == options_.replica) mine = &kv;
      members.push_back(std::move(name));
    } else if (kv.key.starts_with(owners_prefix)) {
      owners[kv.key.substr(owners_prefix.size())] = &kv;
    }
  }
  std::sort(members.begin(), members.end());
  members.erase(std::unique(members.begin(), members.end()), members.end());
  members_ = std::move(members);

  const std::int64_t our_lease = lease_ ? lease_->id : 0;
  if (mine != nullptr && lease_ && mine->lease == our_lease) {
    member_ = true;
    conflict_.clear();
  } else if (mine != nullptr) {
    member_ = false;
    conflict_ = "replica id " + options_.replica + " is in use by another process";
  } else if (member_) {
    event("member_key_gone", "", "our member key disappeared; joining again");
    member_ = false;
    next_join_ = sent;
  }

  std::set<std::string> names = accounts_;
  for (const auto& [name, st] : states_) names.insert(name);
  for (const auto& [name, kv] : owners)
    if (lease_ && kv->lease == our_lease) names.insert(name);

  bool shrank = false;
  for (const auto& name : names) {
    auto o = owners.find(name);
    const KeyValue* key = o == owners.end() ? nullptr : o->second;
    const bool ours = key != nullptr && lease_ && key->lease == our_lease;
    AccountState& st = states_[name];
    if (ours) {
      if (st.phase == AccountPhase::kFree) {
        // Our own key (an acquisition whose answer was lost): adopt it, then decide as for any.
        st.phase = AccountPhase::kOwned;
        ++acquisitions_;
        event("acquired", name, "adopted a key created under our lease");
      }
      st.create_revision = key->create_revision;
      if (wanted(name)) {
        if (st.phase == AccountPhase::kDraining || st.phase == AccountPhase::kClosing) {
          st.phase = AccountPhase::kOwned;
          event("drain_cancelled", name, "we are the wanted owner again");
        }
      } else if (st.phase == AccountPhase::kOwned) {
        st.phase = AccountPhase::kDraining;
        st.draining_since = sent;
        event("draining", name,
              stopping_ ? "stopping"
              : accounts_.count(name) == 0
                  ? "left the config"
                  : "handing over to " + hrw_owner(name, members_).value_or("nobody"));
      }
    } else {
      if (st.phase != AccountPhase::kFree) {
        st.phase = AccountPhase::kFree;
        shrank = true;
        event("lost", name, key == nullptr ? "our owner key is gone" : "another lease holds it");
      }
      if (key == nullptr && wanted(name)) candidates_.insert(name);
    }
  }
  if (shrank) ++generation_;
  for (auto it = states_.begin(); it != states_.end();)
    it = it->second.phase == AccountPhase::kFree && accounts_.count(it->first) == 0
             ? states_.erase(it)
             : std::next(it);
  changed();
}

void OwnershipMachine::on_acquire(Time now, const std::string& account, const CreateResult& r) {
  (void)now;
  if (!lease_) return;
  const bool ours = r.created || (r.existing && r.existing->lease == lease_->id);
  if (!ours) return;  // someone else holds it; the next read tells us more
  AccountState& st = states_[account];
  st.phase = AccountPhase::kOwned;
  st.create_revision = r.created ? r.revision : r.existing->create_revision;
  ++acquisitions_;
  event("acquired", account, "owner key created at revision " + std::to_string(st.create_revision));
  changed();
}

void OwnershipMachine::on_release(Time now, const std::string& account) {
  (void)now;
  auto it = states_.find(account);
  if (it == states_.end()) return;
  it->second.phase = AccountPhase::kFree;
  event("released", account);
  if (accounts_.count(account) == 0) states_.erase(it);
  changed();
}

void OwnershipMachine::on_revoked() {
  for (auto& [name, st] : states_) st.phase = AccountPhase::kFree;
  lease_.reset();
  member_ = false;
  done_ = true;
  event("revoked", "", "lease revoked: every key of this replica is gone");
  changed();
}

void OwnershipMachine::on_failure(Time now, Action::Kind what, const std::string& account) {
  switch (what) {
    case Action::Kind::kGrant:
      next_grant_ = now + options_.retry_interval;
      break;
    case Action::Kind::kKeepAlive:
      ++renewals_failed_;
      next_renew_ = now + options_.retry_interval;
      break;
    case Action::Kind::kJoin:
      next_join_ = now + options_.retry_interval;
      break;
    case Action::Kind::kPoll:
      next_poll_ = now + options_.retry_interval;
      break;
    case Action::Kind::kAcquire:
      break;  // the next read shows whether it happened (our lease on the key) or not
    case Action::Kind::kRelease:
      if (auto it = states_.find(account); it != states_.end())
        it->second.retry_at = now + options_.retry_interval;
      break;
    case Action::Kind::kRevoke:
      // Not revoked: etcd expires the lease within the TTL; the fence is closed either way.
      for (auto& [name, st] : states_) st.phase = AccountPhase::kFree;
      lease_.reset();
      done_ = true;
      break;
    case Action::Kind::kWait:
    case Action::Kind::kDone:
      break;
  }
  changed();
}

FenceState OwnershipMachine::fence_state() const {
  FenceState f;
  f.generation = generation_;
  if (!lease_) return f;
  f.lease_deadline = lease_->deadline;
  for (const auto& [name, st] : states_)
    if (st.phase == AccountPhase::kOwned || st.phase == AccountPhase::kDraining)
      f.open.insert(name);
  return f;
}

AccountPhase OwnershipMachine::phase(const std::string& account) const {
  auto it = states_.find(account);
  return it == states_.end() ? AccountPhase::kFree : it->second.phase;
}

std::optional<std::int64_t> OwnershipMachine::lease_id() const {
  if (!lease_) return std::nullopt;
  return lease_->id;
}

std::optional<Time> OwnershipMachine::lease_deadline() const {
  if (!lease_) return std::nullopt;
  return lease_->deadline;
}

OwnershipView OwnershipMachine::view(Time now) const {
  OwnershipView v;
  v.replica = options_.replica;
  v.member = member_;
  v.members = members_;
  v.renewals_ok = renewals_ok_;
  v.renewals_failed = renewals_failed_;
  v.renewals_lost = renewals_lost_;
  v.acquisitions = acquisitions_;
  const bool valid = lease_ && now < lease_->deadline;
  if (lease_)
    v.lease_left = std::max(Millis(0), std::chrono::duration_cast<Millis>(lease_->deadline - now));
  const bool can_write = writable(now);
  for (const auto& [name, st] : states_) {
    if (st.phase == AccountPhase::kFree || !valid) continue;
    v.owned.insert(name);
    if (st.phase == AccountPhase::kOwned && can_write && !stopping_) v.schedulable.insert(name);
  }
  const bool fresh = last_read_ && now - *last_read_ <= timing_.ttl;
  if (stopping_) {
    v.reason = "stopping";
  } else if (!lease_) {
    v.reason = "no etcd lease (is etcd reachable?)";
  } else if (!conflict_.empty()) {
    v.reason = conflict_;
  } else if (!member_ && now < join_after_) {
    v.reason = "joining: a new lease waits one TTL before it takes accounts";
  } else if (!member_) {
    v.reason = "not a member yet";
  } else if (!can_write) {
    v.reason = "the etcd lease is about to run out (renewals failing: is etcd reachable?)";
  } else if (!fresh) {
    v.reason = "no successful read of the members for over one TTL";
  }
  v.ready = v.reason.empty();
  return v;
}

}  // namespace sharekeeper::coordination
