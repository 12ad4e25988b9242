#pragma once
// Loading integers from untrusted bytes: memcpy, never a cast to a packed struct, byte order
// explicit at the call. Callers check the length first; these functions do not.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace synscope::wire {

using bytes = std::span<const std::byte>;

inline uint8_t load_u8(const std::byte* p) noexcept { return static_cast<uint8_t>(*p); }

inline uint16_t load_u16be(const std::byte* p) noexcept {
  uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return __builtin_bswap16(v);
}

inline uint32_t load_u32be(const std::byte* p) noexcept {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return __builtin_bswap32(v);
}

inline uint16_t load_u16le(const std::byte* p) noexcept {
  uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

inline uint32_t load_u32le(const std::byte* p) noexcept {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

/// A 16- or 32-bit load in a byte order chosen at run time (capture files carry theirs).
inline uint16_t load_u16(const std::byte* p, bool big_endian) noexcept {
  return big_endian ? load_u16be(p) : load_u16le(p);
}
inline uint32_t load_u32(const std::byte* p, bool big_endian) noexcept {
  return big_endian ? load_u32be(p) : load_u32le(p);
}

}  // namespace synscope::wire
