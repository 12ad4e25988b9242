#pragma once
// SHA-256 (FIPS 180-4), for the checksums in backup manifests.
//
//   core::sha256 h;  h.update(bytes);  std::string hex = h.hex();
//   auto file = core::sha256_file("/var/backups/x/sysctl-net.conf");
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.h"

namespace synscope::core {

class sha256 {
 public:
  sha256();
  void update(std::string_view data);
  /// The digest as 64 lowercase hex digits; the object is finished after this.
  std::string hex();

 private:
  void block(const uint8_t* p);
  std::array<uint32_t, 8> h_;
  std::array<uint8_t, 64> buf_{};
  size_t used_ = 0;
  uint64_t length_ = 0;
};

/// The SHA-256 of a file's contents.
result<std::string> sha256_file(const std::string& path);

}  // namespace synscope::core
