#include "core/sha256.h"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "core/unique_fd.h"

namespace synscope::core {

sha256::sha256() { sha256_init(&ctx_); }

void sha256::update(std::string_view data) {
  sha256_update(&ctx_, data.size(), reinterpret_cast<const uint8_t*>(data.data()));  // NOLINT: Nettle takes bytes
}

std::string sha256::hex() {
  uint8_t digest[SHA256_DIGEST_SIZE];
  sha256_digest(&ctx_, sizeof digest, digest);
  std::string out;
  out.reserve(2 * sizeof digest);
  for (uint8_t b : digest) out += fmt::format("{:02x}", b);
  return out;
}

result<std::string> sha256_file(const std::string& path) {
  unique_fd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return system_error(path, "open", errno);
  sha256 h;
  char buf[65536];
  for (;;) {
    ssize_t n = retry_on_eintr([&] { return read(fd.get(), buf, sizeof buf); });
    if (n < 0) return system_error(path, "read", errno);
    if (n == 0) break;
    h.update(std::string_view(buf, static_cast<size_t>(n)));
  }
  return h.hex();
}

}  // namespace synscope::core
