#pragma once
// Text the user types that stands for bytes.
//
//   auto data = core::unescape("GET / HTTP/1.0\\r\\n\\r\\n", "--data");   // CR LF CR LF at the end
#include <string>
#include <string_view>

#include "core/error.h"

namespace synscope::core {

/// Decodes C escapes: \r \n \t \0 \\ and \xHH. Any other backslash sequence, or a \x without
/// two hex digits, is a usage error naming `what`.
result<std::string> unescape(std::string_view text, std::string_view what);

/// Appends `s` to `out` as a JSON string literal (quotes included), escaped as RFC 8259 asks.
/// `html_safe` also writes <, > and & as \u escapes, so that the literal can stand inside an
/// HTML <script> element ("</script>" cannot end it early).
void append_json_string(std::string& out, std::string_view s, bool html_safe = false);

}  // namespace synscope::core
