#include "core/community_id.h"

#include <nettle/base64.h>
#include <nettle/sha1.h>

#include <algorithm>
#include <cstring>

namespace synscope::core {

size_t write_community_id(char* out, const ip_endpoint& a, const ip_endpoint& b, uint8_t protocol, uint16_t seed) {
  size_t len = a.address.version == 6 ? 16 : 4;
  bool ports = protocol == 6 || protocol == 17 || protocol == 132;
  // The smaller end first: by address, then (for equal addresses) by port.
  int order = std::memcmp(a.address.bytes.data(), b.address.bytes.data(), len);
  bool swap = order > 0 || (order == 0 && ports && a.port > b.port);
  const ip_endpoint& lo = swap ? b : a;
  const ip_endpoint& hi = swap ? a : b;
  // seed (2) | lo address | hi address | protocol (1) | 0 (1) | lo port (2) | hi port (2), all in
  // network order.
  uint8_t buf[2 + 16 + 16 + 2 + 4];
  size_t n = 0;
  buf[n++] = static_cast<uint8_t>(seed >> 8);
  buf[n++] = static_cast<uint8_t>(seed);
  std::memcpy(buf + n, lo.address.bytes.data(), len);
  n += len;
  std::memcpy(buf + n, hi.address.bytes.data(), len);
  n += len;
  buf[n++] = protocol;
  buf[n++] = 0;
  if (ports) {
    buf[n++] = static_cast<uint8_t>(lo.port >> 8);
    buf[n++] = static_cast<uint8_t>(lo.port);
    buf[n++] = static_cast<uint8_t>(hi.port >> 8);
    buf[n++] = static_cast<uint8_t>(hi.port);
  }
  sha1_ctx ctx{};
  sha1_init(&ctx);
  sha1_update(&ctx, n, buf);
  uint8_t digest[SHA1_DIGEST_SIZE];
  sha1_digest(&ctx, sizeof digest, digest);
  out[0] = '1';
  out[1] = ':';
  base64_encode_raw(out + 2, sizeof digest, digest);  // 20 bytes: 28 characters, one '=' of padding
  return community_id_size;
}

std::string community_id(const ip_endpoint& a, const ip_endpoint& b, uint8_t protocol, uint16_t seed) {
  char text[community_id_size];
  return {text, write_community_id(text, a, b, protocol, seed)};
}

}  // namespace synscope::core
