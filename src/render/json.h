#pragma once
// A JSON object writer for synscope's --json output (the command line's only): fields appear in the order written, so
// output is stable and diffable. One object per line (JSON lines).
//
//   std::string line = render::json_object().field("type", "attempt").field("seq", 3).str();
#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace synscope::render {

class json_array;

class json_object {
 public:
  json_object& field(std::string_view key, std::string_view value);
  json_object& field(std::string_view key, const char* value) { return field(key, std::string_view(value)); }
  json_object& field(std::string_view key, const std::string& value) { return field(key, std::string_view(value)); }
  json_object& field(std::string_view key, bool value);
  json_object& field(std::string_view key, double value);  ///< NaN and infinities become null
  template <std::integral T>
    requires(!std::same_as<T, bool>)
  json_object& field(std::string_view key, T value) {
    key_(key);
    out_ += std::to_string(value);
    return *this;
  }
  json_object& field(std::string_view key, const std::vector<std::string>& values);
  /// A duration measured in nanoseconds, written in microseconds with the nanoseconds as its
  /// three decimals and no more: 240250 -> 240.25, never 240.24999999999983. A double (a mean)
  /// is rounded to the nanosecond first.
  json_object& micros(std::string_view key, int64_t ns);
  json_object& micros(std::string_view key, double ns);
  json_object& field(std::string_view key, const json_object& nested);
  json_object& field(std::string_view key, const json_array& array);
  json_object& null_field(std::string_view key);

  /// The finished object, "{...}".
  [[nodiscard]] std::string str() const { return out_ + "}"; }

 private:
  void key_(std::string_view key);
  std::string out_ = "{";
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
