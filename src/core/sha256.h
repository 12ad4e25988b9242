#pragma once
// SHA-256 (FIPS 180-4), for the checksums in backup manifests: Nettle's, behind a small class.
//
//   core::sha256 h;  h.update(bytes);  std::string hex = h.hex();
//   auto file = core::sha256_file("/var/backups/x/sysctl-net.conf");
#include <nettle/sha2.h>

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
  sha256_ctx ctx_{};
};

/// The SHA-256 of a file's contents.
result<std::string> sha256_file(const std::string& path);

}  // namespace synscope::core
