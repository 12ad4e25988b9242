#pragma once
// A write position in a buffer that the caller made large enough for everything written
// through it: no bounds check per piece, no allocation, literals copied with their length known
// at compile time. For the lines analyze writes by the hundred thousand (--json, --csv), where
// appending piece by piece to a std::string was most of the run.
//
//   char line[render::max_connection_line];
//   render::text_cursor at(line);
//   at.lit("{\"id\":").number(c.id).put('}');
//   std::fwrite(line, 1, at.size_from(line), stdout);
#include <charconv>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace synscope::render {

class text_cursor {
 public:
  explicit text_cursor(char* at) : at_(at) {}

  /// A string literal, without its terminating NUL.
  template <size_t N>
  text_cursor& lit(const char (&text)[N]) {
    std::memcpy(at_, text, N - 1);
    at_ += N - 1;
    return *this;
  }
  text_cursor& str(std::string_view text) {
    std::memcpy(at_, text.data(), text.size());
    at_ += text.size();
    return *this;
  }
  text_cursor& put(char ch) {
    *at_++ = ch;
    return *this;
  }
  text_cursor& boolean(bool v) { return v ? lit("true") : lit("false"); }
  template <std::integral T>
  text_cursor& number(T v) {
    at_ = std::to_chars(at_, at_ + 24, v).ptr;  // 20 digits and a sign at most
    return *this;
  }
  /// Nanoseconds as microseconds, the nanoseconds as up to three decimals with trailing zeros
  /// dropped: 240250 -> "240.25", 5000 -> "5" (as render::json_object::micros writes them).
  text_cursor& micros_trimmed(int64_t ns) {
    uint64_t magnitude = ns < 0 ? 0 - static_cast<uint64_t>(ns) : static_cast<uint64_t>(ns);
    if (ns < 0) put('-');
    number(magnitude / 1000);
    if (uint64_t frac = magnitude % 1000; frac != 0) {
      char digits[3] = {static_cast<char>('0' + frac / 100), static_cast<char>('0' + frac / 10 % 10),
                        static_cast<char>('0' + frac % 10)};
      size_t n = digits[2] != '0' ? 3 : digits[1] != '0' ? 2 : 1;
      put('.');
      std::memcpy(at_, digits, n);
      at_ += n;
    }
    return *this;
  }
  /// Nanoseconds as microseconds with exactly three decimals ("%.3f" of ns / 1e3, exact).
  text_cursor& micros_fixed(int64_t ns) {
    number(ns / 1000);
    int64_t frac = ns % 1000;
    put('.');
    put(static_cast<char>('0' + frac / 100));
    put(static_cast<char>('0' + frac / 10 % 10));
    put(static_cast<char>('0' + frac % 10));
    return *this;
  }
  /// Room for `n` more bytes written by the caller, then advance(n) (or past the end written).
  [[nodiscard]] char* here() const { return at_; }
  text_cursor& advance(size_t n) {
    at_ += n;
    return *this;
  }
  [[nodiscard]] size_t size_from(const char* start) const { return static_cast<size_t>(at_ - start); }

 private:
  char* at_;
};

}  // namespace synscope::render
