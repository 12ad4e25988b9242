#pragma once
// Text the user types that stands for bytes.
//
//   auto data = core::unescape("GET / HTTP/1.0\\r\\n\\r\\n", "--data");   // CR LF CR LF at the end
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace synscope::core {

/// Decodes C escapes: \r \n \t \0 \\ and \xHH. Any other backslash sequence, or a \x without
/// two hex digits, is a usage error naming `what`.
result<std::string> unescape(std::string_view text, std::string_view what);

/// Appends `s` to `out` as a JSON string literal (quotes included), escaped as RFC 8259 asks.
/// `html_safe` also writes <, > and & as \u escapes, so that the literal can stand inside an
/// HTML <script> element ("</script>" cannot end it early).
void append_json_string(std::string& out, std::string_view s, bool html_safe = false);

/// The candidate nearest to a mistyped `word` ("probee" -> "probe", "--cuont" -> "--count"), by
/// the optimal string alignment distance (a swap of two neighbours costs one), when it is at most
/// a third of the word's length (at least 1); "" when none is that near, as git's "did you mean".
std::string closest_word(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace synscope::core
