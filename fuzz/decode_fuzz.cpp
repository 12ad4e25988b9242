// Fuzzes packet decoding alone: the first byte picks the link type, the rest is the frame,
// through every tunnel decoder. Copies the frame into an allocation of its exact size so that
// ASan sees any over-read.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "fuzz_check.h"

#include "wire/packet.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace synscope;
  if (size < 1) return 0;
  static constexpr uint16_t linktypes[] = {1, 113, 276, 101, 12, 14, 228, 229, 0, 108, 104, 9, 50, 7, 129};
  uint16_t linktype = linktypes[data[0] % (sizeof linktypes / sizeof linktypes[0])];
  size_t n = size - 1;
  auto frame = std::make_unique<std::byte[]>(n);
  std::memcpy(frame.get(), data + 1, n);
  wire::packet_view p;
  auto status = wire::decode(linktype, wire::bytes(frame.get(), n), p);
  if (status == wire::decode_status::tcp) {
    fuzz::check(p.flags <= 0x1ff, "flags fit in 9 bits");
    fuzz::check(p.src.version == 4 || p.src.version == 6, "an address family is set");
    fuzz::check(p.tunnels <= 9, "tunnels are followed at most 8 deep");
  }
  return 0;
}
