#pragma once
// A JSON object writer for synscope's --json output (the command line's only): fields appear in the order written, so
// output is stable and diffable. One object per line (JSON lines).
//
//   std::string line = render::json_object().field("type", "attempt").field("seq", 3).str();
//
// Where many objects are written (a connection per line of analyze --json), an object can be
// written straight into the caller's buffer, nested objects too, with no string of its own:
//
//   render::json_object j(buffer);
//   j.field("id", 7).object("tfo", [&](render::json_object& t) { t.field("syn_data_bytes", 0); });
//   j.close();
#include <concepts>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace synscope::render {

class json_array;

class json_object {
 public:
  json_object() = default;
  /// Appends the object to `sink` as it is written; close() writes its end.
  explicit json_object(std::string& sink) : out_(&sink), start_(sink.size()) { sink += '{'; }
  json_object(const json_object& o) : own_(o.own_), out_(o.out_ == &o.own_ ? &own_ : o.out_), start_(o.start_) {}
  json_object& operator=(const json_object& o) {
    own_ = o.own_;
    out_ = o.out_ == &o.own_ ? &own_ : o.out_;
    start_ = o.start_;
    return *this;
  }
  ~json_object() = default;

  json_object& field(std::string_view key, std::string_view value);
  json_object& field(std::string_view key, const char* value) { return field(key, std::string_view(value)); }
  json_object& field(std::string_view key, const std::string& value) { return field(key, std::string_view(value)); }
  json_object& field(std::string_view key, bool value);
  json_object& field(std::string_view key, double value);  ///< NaN and infinities become null
  template <std::integral T>
    requires(!std::same_as<T, bool>)
  json_object& field(std::string_view key, T value) {
    integer_field(key, static_cast<std::conditional_t<std::is_signed_v<T>, int64_t, uint64_t>>(value));
    return *this;
  }
  json_object& field(std::string_view key, const std::vector<std::string>& values);
  json_object& field(std::string_view key, std::span<const std::string_view> values);
  /// A duration measured in nanoseconds, written in microseconds with the nanoseconds as its
  /// three decimals and no more: 240250 -> 240.25, never 240.24999999999983. A double (a mean)
  /// is rounded to the nanosecond first.
  json_object& micros(std::string_view key, int64_t ns);
  json_object& micros(std::string_view key, double ns);
  json_object& field(std::string_view key, const json_object& nested);
  json_object& field(std::string_view key, const json_array& array);
  json_object& null_field(std::string_view key);
  /// A nested object under `key`, written in place by `fill(json_object&)`.
  template <typename Fill>
  json_object& object(std::string_view key, Fill&& fill) {
    key_(key);
    json_object inner(*out_);
    fill(inner);
    inner.close();
    return *this;
  }

  /// The finished object, "{...}" (of an object with its own string).
  [[nodiscard]] std::string str() const { return *out_ + "}"; }
  /// Ends an object written into a sink.
  void close() { *out_ += '}'; }

 private:
  void key_(std::string_view key);
  template <typename Integer>
  void integer_field(std::string_view key, Integer v);  // int64_t or uint64_t: key and digits in one append
  void append_integer(int64_t v);
  void append_integer(uint64_t v);
  std::string own_ = "{";
  std::string* out_ = &own_;
  size_t start_ = 0;  // where this object's '{' is in *out_
};

/// A JSON array of objects, strings or numbers, in the order added.
///
///   render::json_array a;
///   for (const auto& l : loads) a.add(render::json_object().field("local", l.name));
///   line.field("listeners", a);
class json_array {
 public:
  json_array& add(const json_object& value);
  json_array& add(std::string_view value);
  template <std::integral T>
    requires(!std::same_as<T, bool>)
  json_array& add(T value) {
    comma_();
    out_ += std::to_string(value);
    return *this;
  }
  [[nodiscard]] bool empty() const { return out_.size() == 1; }
  /// The finished array, "[...]".
  [[nodiscard]] std::string str() const { return out_ + "]"; }

 private:
  void comma_() {
    if (out_.size() > 1) out_ += ',';
  }
  std::string out_ = "[";
};

}  // namespace synscope::render
