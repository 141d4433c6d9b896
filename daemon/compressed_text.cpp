#include "daemon/compressed_text.hpp"

#include <zlib.h>

#include <new>
#include <stdexcept>

namespace sharekeeper::daemon {

CompressedText CompressedText::of(std::string_view text) {
  CompressedText out;
  out.size_ = text.size();
  if (text.empty()) return out;
  uLongf length = compressBound(static_cast<uLong>(text.size()));
  std::string data(length, '\0');
  // With compressBound's room the only failure is Z_MEM_ERROR.
  if (compress2(reinterpret_cast<Bytef*>(data.data()), &length,
                reinterpret_cast<const Bytef*>(text.data()), static_cast<uLong>(text.size()),
                1) != Z_OK)
    throw std::bad_alloc();
  data.resize(length);
  data.shrink_to_fit();
  out.data_ = std::move(data);
  return out;
}

std::string CompressedText::text() const {
  if (size_ == 0) return {};
  std::string out(size_, '\0');
  auto length = static_cast<uLongf>(size_);
  const int rc =
      uncompress(reinterpret_cast<Bytef*>(out.data()), &length,
                 reinterpret_cast<const Bytef*>(data_.data()), static_cast<uLong>(data_.size()));
  // Only memory we wrote ourselves is inflated: anything but the exact text is a defect.
  if (rc != Z_OK || length != size_) throw std::logic_error("CompressedText: inflate failed");
  return out;
}

}  // namespace sharekeeper::daemon
