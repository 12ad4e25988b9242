#include "render/serve.h"

#include <fmt/format.h>

#include "core/error.h"
#include "render/json.h"

namespace synscope::render {

std::string serve_listening_text(const active::server_options& o, const std::vector<core::socket_address>& bound) {
  std::string where;
  for (const auto& a : bound) where += (where.empty() ? "" : ", ") + a.to_string();
  return fmt::format("synscope serve: {} on {} ({} thread{}, backlog {}{}{})\n", active::serve_mode_name(o.mode), where,
                     o.threads, o.threads == 1 ? "" : "s", o.backlog,
                     o.defer_accept_s > 0 ? fmt::format(", defer-accept {} s", o.defer_accept_s) : "",
                     o.fastopen_qlen > 0 ? fmt::format(", fastopen {}", o.fastopen_qlen) : "");
}

std::string serve_listening_json(const active::server_options& o, const std::vector<core::socket_address>& bound,
                                 pid_t pid) {
  std::vector<std::string> addrs;
  for (const auto& a : bound) addrs.push_back(a.to_string());
  return json_object()
             .field("type", "listening")
             .field("pid", static_cast<int64_t>(pid))
             .field("mode", active::serve_mode_name(o.mode))
             .field("listen", addrs)
             .field("threads", o.threads)
             .field("backlog", o.backlog)
             .str() +
         "\n";
}

std::string serve_stats_json(const active::server_stats& s, const std::vector<std::pair<std::string, int64_t>>& kernel) {
  json_object errors;
  for (const auto& [e, n] : s.errors) errors.field(core::errno_name(e), n);
  json_object k;
  for (const auto& [name, d] : kernel) k.field(name, d);
  return json_object()
             .field("type", "stats")
             .field("accepted", s.accepted)
             .field("active", s.active)
             .field("peak_active", s.peak_active)
             .field("closed", s.closed)
             .field("requests", s.requests)
             .field("idle_closed", s.idle_closed)
             .field("accept_pauses", s.accept_pauses)
             .field("errors", errors)
             .field("kernel_delta", k)
             .str() +
         "\n";
}

std::string serve_stats_text(const active::server_stats& s, const std::vector<std::pair<std::string, int64_t>>& kernel) {
  std::string out = fmt::format("accepted {}, active {}, peak {}, closed {}, requests {}, idle-closed {}, accept pauses {}\n",
                                s.accepted, s.active, s.peak_active, s.closed, s.requests, s.idle_closed, s.accept_pauses);
  if (!s.errors.empty()) {
    out += "errors:";
    for (const auto& [e, n] : s.errors) out += fmt::format(" {} {}", core::errno_name(e), n);
    out += "\n";
  }
  out += "kernel, whole namespace, while serving:";
  for (const auto& [name, d] : kernel) out += fmt::format(" {} {:+}", name, d);
  return out + "\n";
}

}  // namespace synscope::render
