#include "render/json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "core/text.h"

namespace synscope::render {

namespace {

// The room key_text() needs beyond the key: a comma, two quotes, a colon and an integer.
constexpr size_t key_room = 4 + 24;
constexpr size_t max_plain_key = 64;

// True when no byte of `text` needs an escape or is outside printable ASCII (< 0x20, '"', '\\',
// >= 0x7f), checked eight bytes at a time: a character at a time was 12 % of a --json run.
bool plain_word_by_word(std::string_view text) {
  constexpr uint64_t ones = 0x0101010101010101u;
  constexpr uint64_t highs = 0x8080808080808080u;
  auto has_zero = [](uint64_t w) { return (w - ones) & ~w & highs; };
  auto bad = [&](uint64_t w) {
    return (w & highs) | ((w - ones * 0x20) & ~w & highs) | has_zero(w ^ (ones * '"')) |
           has_zero(w ^ (ones * '\\')) | has_zero(w ^ (ones * 0x7f));
  };
  auto word_at = [&](size_t i) {
    uint64_t w = 0;
    std::memcpy(&w, text.data() + i, 8);
    return w;
  };
  if (text.size() < 8) {
    // Short keys a character at a time: a word assembled from narrower stores would stall.
    uint64_t any = 0;
    for (char ch : text) any |= bad(ones * static_cast<unsigned char>(ch));
    return any == 0;
  }
  uint64_t any = 0;
  for (size_t i = 0; i + 8 <= text.size(); i += 8) any |= bad(word_at(i));
  return (any | bad(word_at(text.size() - 8))) == 0;  // the tail: the last eight, overlapping
}

// Writes `,"key":` (the comma when `comma`) into `buf` and returns its length; 0 when the key is
// long or needs an escape, which then goes the general way. Keys are nearly always short
// literals, and one append of the whole piece is what makes --json fast.
size_t key_text(char* buf, bool comma, std::string_view key) {
  if (key.size() > max_plain_key) return 0;
  size_t n = 0;
  if (!plain_word_by_word(key)) return 0;
  if (comma) buf[n++] = ',';
  buf[n++] = '"';
  std::memcpy(buf + n, key.data(), key.size());
  n += key.size();
  buf[n++] = '"';
  buf[n++] = ':';
  return n;
}

}  // namespace

void json_object::key_(std::string_view key) {
  bool comma = out_->size() > start_ + 1;
  char buf[max_plain_key + key_room];
  if (size_t n = key_text(buf, comma, key); n > 0) {
    out_->append(buf, n);
    return;
  }
  if (comma) *out_ += ',';
  core::append_json_string(*out_, key);
  *out_ += ':';
}

template <typename Integer>
void json_object::integer_field(std::string_view key, Integer v) {
  char buf[max_plain_key + key_room];
  size_t n = key_text(buf, out_->size() > start_ + 1, key);
  if (n == 0) {
    key_(key);
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    out_->append(buf, end);
    return;
  }
  auto [end, ec] = std::to_chars(buf + n, buf + sizeof buf, v);  // 20 digits and a sign fit
  out_->append(buf, end);
}
template void json_object::integer_field(std::string_view, int64_t);
template void json_object::integer_field(std::string_view, uint64_t);

namespace {

template <typename Integer>
void append_digits(std::string& out, Integer v) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, v);
  out.append(digits, end);
}

// A JSON array of strings, in order.
template <typename Strings>
void append_string_array(std::string& out, const Strings& values) {
  out += '[';
  bool first = true;
  for (const auto& v : values) {
    if (!first) out += ',';
    first = false;
    core::append_json_string(out, v);
  }
  out += ']';
}

}  // namespace

void json_object::append_integer(int64_t v) { append_digits(*out_, v); }
void json_object::append_integer(uint64_t v) { append_digits(*out_, v); }

json_object& json_object::field(std::string_view key, std::string_view value) {
  key_(key);
  core::append_json_string(*out_, value);
  return *this;
}

json_object& json_object::field(std::string_view key, bool value) {
  key_(key);
  *out_ += value ? "true" : "false";
  return *this;
}

json_object& json_object::field(std::string_view key, double value) {
  key_(key);
  if (!std::isfinite(value)) {
    *out_ += "null";
  } else {
    // Shortest text that reads back as the same double.
    char text[64];
    auto written = fmt::format_to_n(text, sizeof text, "{}", value);
    out_->append(text, std::min(written.size, sizeof text));
  }
  return *this;
}

json_object& json_object::micros(std::string_view key, int64_t ns) {
  key_(key);
  bool negative = ns < 0;
  uint64_t magnitude = negative ? 0 - static_cast<uint64_t>(ns) : static_cast<uint64_t>(ns);
  char text[32];
  char* end = fmt::format_to(text, "{}{}", negative ? "-" : "", magnitude / 1000);
  if (uint64_t frac = magnitude % 1000; frac != 0) {
    end = fmt::format_to(end, ".{:03}", frac);
    while (end[-1] == '0') --end;
  }
  out_->append(text, end);
  return *this;
}

json_object& json_object::micros(std::string_view key, double ns) {
  if (!std::isfinite(ns)) return null_field(key);
  return micros(key, static_cast<int64_t>(std::llround(ns)));
}

json_object& json_object::field(std::string_view key, const std::vector<std::string>& values) {
  key_(key);
  append_string_array(*out_, values);
  return *this;
}

json_object& json_object::field(std::string_view key, std::span<const std::string_view> values) {
  key_(key);
  append_string_array(*out_, values);
  return *this;
}

json_object& json_object::field(std::string_view key, const json_object& nested) {
  key_(key);
  *out_ += nested.str();
  return *this;
}

json_object& json_object::field(std::string_view key, const json_array& array) {
  key_(key);
  *out_ += array.str();
  return *this;
}

json_array& json_array::add(const json_object& value) {
  comma_();
  out_ += value.str();
  return *this;
}

json_array& json_array::add(std::string_view value) {
  comma_();
  core::append_json_string(out_, value);
  return *this;
}

json_object& json_object::null_field(std::string_view key) {
  key_(key);
  *out_ += "null";
  return *this;
}

}  // namespace synscope::render
