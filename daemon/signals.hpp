#pragma once
// SIGTERM, SIGINT and SIGHUP delivered on one thread of our own through signalfd, so handlers may
// take locks and log (nothing runs in async-signal context). block() must run in main() before any
// thread starts: every thread inherits the mask and the signals queue for the signalfd instead.
#include <functional>
#include <thread>

namespace sharekeeper::daemon {

class SignalThread {
 public:
  // Blocks SIGTERM, SIGINT, SIGHUP in the calling thread (and so in threads it starts later).
  static void block();
  explicit SignalThread(std::function<void(int signo)> on_signal);
  ~SignalThread();
  SignalThread(const SignalThread&) = delete;
  SignalThread& operator=(const SignalThread&) = delete;
  void start();  // throws std::runtime_error
  void stop();

 private:
  std::function<void(int)> on_signal_;
  int signal_fd_ = -1;
  int stop_fd_ = -1;
  std::thread thread_;
};

}  // namespace sharekeeper::daemon
