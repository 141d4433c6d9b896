#pragma once
// Text kept in memory deflated (zlib), for what the daemon keeps long and reads rarely: each
// account's last plan behind GET /plan. A 200-account organisation's plans are about 70 MB of JSON
// and compress about tenfold (bench/daemon/README.md "Memory").
#include <cstddef>
#include <string>
#include <string_view>

namespace sharekeeper::daemon {

class CompressedText {
 public:
  CompressedText() = default;
  // Deflates `text` (zlib level 1: the plan is written once a pass, on the pass's own thread).
  // Only a failed allocation inside zlib can fail it: std::bad_alloc, as any allocation.
  static CompressedText of(std::string_view text);

  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }                 // of the text
  std::size_t stored_bytes() const { return data_.size(); }  // what is kept
  std::string text() const;                                  // inflated again

 private:
  std::string data_;
  std::size_t size_ = 0;
};

}  // namespace sharekeeper::daemon
