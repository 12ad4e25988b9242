// A JSON-lines file someone hands the command line is outside input: parsed without
// exceptions (nlohmann's allow_exceptions = false), every field's type checked before use.
#include "trace/trace_file.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace synscope::trace {

namespace {

core::error bad(std::string_view source, size_t line, std::string_view what) {
  return {core::exit_code::bad_data, fmt::format("{} line {}: {}", core::printable(source), line, what)};
}

}  // namespace

core::result<std::vector<traced_handshake>> read_trace_json(std::string_view text, std::string_view source) {
  std::vector<traced_handshake> out;
  size_t line_no = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    auto j = nlohmann::json::parse(line.begin(), line.end(), nullptr, false);
    if (j.is_discarded() || !j.is_object()) return bad(source, line_no, "not a JSON object (synscope trace --json writes one a line)");
    auto type = j.find("type");
    if (type == j.end() || !type->is_string() || *type != "handshake") continue;
    traced_handshake h;
    auto client = j.find("client");
    auto server = j.find("server");
    auto isn = j.find("client_isn");
    if (client == j.end() || !client->is_string() || server == j.end() || !server->is_string() || isn == j.end() ||
        !isn->is_number_unsigned() || isn->get<uint64_t>() > UINT32_MAX) {
      return bad(source, line_no, "a handshake without its key (client, server, client_isn)");
    }
    h.client = client->get<std::string>();
    h.server = server->get<std::string>();
    h.client_isn = static_cast<uint32_t>(isn->get<uint64_t>());
    auto text_of = [&](const char* key) {
      auto v = j.find(key);
      return v != j.end() && v->is_string() ? v->get<std::string>() : std::string();
    };
    static constexpr std::pair<const char*, const char*> moments[] = {
        {"syn_unix_ns", "SYN reached the server's kernel"},
        {"synack_unix_ns", "SYN-ACK left"},
        {"last_synack_unix_ns", "last SYN-ACK left"},
        {"drop_unix_ns", "dropped"},
        {"reset_unix_ns", "reset sent"},
        {"ack_unix_ns", "handshake complete: queued for accept()"},
        {"accept_unix_ns", "accept() returned it"},
    };
    for (const auto& [key, what] : moments) {
      auto v = j.find(key);
      if (v == j.end() || v->is_null()) continue;
      if (!v->is_number_integer()) return bad(source, line_no, fmt::format("{} is not an integer", key));
      std::string label = what;
      if (std::string_view(key) == "drop_unix_ns" && !text_of("drop_reason").empty()) {
        label += " (" + core::printable(text_of("drop_reason"), 40) + ")";
      }
      if (std::string_view(key) == "reset_unix_ns" && !text_of("reset_reason").empty()) {
        label += " (" + core::printable(text_of("reset_reason"), 40) + ")";
      }
      if (std::string_view(key) == "accept_unix_ns" && !text_of("comm").empty()) {
        label += " to " + core::printable(text_of("comm"), 16);
      }
      if (std::string_view(key) == "last_synack_unix_ns") {
        auto first = j.find("synack_unix_ns");
        if (first != j.end() && *first == *v) continue;  // the only SYN-ACK: drawn once
      }
      h.moments.emplace_back(v->get<int64_t>(), std::move(label));
    }
    out.push_back(std::move(h));
  }
  return out;
}

}  // namespace synscope::trace
