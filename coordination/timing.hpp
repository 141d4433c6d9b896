#pragma once
// Every duration of the coordination protocol derives from the lease TTL, so one number
// (settings.coordination.etcd.leaseTTL) sets them all; docs/adr/0005 proves the fencing bound with
// exactly these values.
#include <chrono>

namespace sharekeeper::coordination {

using SteadyClock = std::chrono::steady_clock;
using Time = SteadyClock::time_point;
using Millis = std::chrono::milliseconds;

struct Timing {
  Millis ttl;
  Millis renew_every;   // ttl/3: a keepalive is sent this long after the previous one was sent
  Millis margin;        // ttl/10 (>= 100 ms): slack between our last request and the lease's expiry
  Millis max_request;   // ttl/3: the longest HTTP attempt a fenced client may make
  Millis etcd_timeout;  // ttl/5 in [500 ms, 5 s]: the deadline of every etcd call
  Millis quarantine;    // ttl + margin: a fresh lease joins only this long after it was requested
};

Timing timing_for(std::chrono::seconds ttl);

// The clock lease deadlines are measured on: CLOCK_BOOTTIME, which, unlike CLOCK_MONOTONIC
// (steady_clock), keeps counting while the host is suspended, so a replica waking from a suspend
// sees its lease as expired instead of trusting a deadline that real time has passed. Returned as a
// steady_clock time point (a different epoch: never compare it with steady_clock::now()).
Time lease_clock_now();

}  // namespace sharekeeper::coordination
