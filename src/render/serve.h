#pragma once
// `synscope serve` as people and machines read it: where it listens, then its counters (on
// SIGUSR1 and at the end) beside the kernel's (docs/serve.md).
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "active/server.h"

namespace synscope::render {

/// "synscope serve: ack on 127.0.0.1:8080 (1 thread, backlog 4096)".
std::string serve_listening_text(const active::server_options& o, const std::vector<core::socket_address>& bound);
/// {"type":"listening",...}: the pid, the mode and every bound address.
std::string serve_listening_json(const active::server_options& o, const std::vector<core::socket_address>& bound,
                                 pid_t pid);

/// The server's counters and the kernel's movement (nstat names) while it served.
std::string serve_stats_text(const active::server_stats& s, const std::vector<std::pair<std::string, int64_t>>& kernel);
std::string serve_stats_json(const active::server_stats& s, const std::vector<std::pair<std::string, int64_t>>& kernel);

}  // namespace synscope::render
