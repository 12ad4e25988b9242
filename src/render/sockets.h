#pragma once
// `synscope sockets` as people and machines read it, in ss's layout where ss has one: the
// listing, -s's summary and listener queues, --top and --by groups (docs/sockets.md).
//
//   render::table t(render::socket_columns(false, true));
//   t.add_row(render::socket_row(s, std::nullopt, true));
#include <optional>
#include <string>
#include <vector>

#include "kernel/snapshot.h"
#include "kernel/socket_filter.h"
#include "kernel/sockets.h"
#include "render/json.h"
#include "render/table.h"

namespace synscope::render {

/// One socket as a --json line (its TCP_INFO when it was asked for and given).
json_object socket_json(const kernel::tcp_socket& s, const std::string& process);

/// The listing's columns (Process with -p, Info with -i) and one socket's row in them.
std::vector<table::column> socket_columns(bool processes, bool info);
std::vector<std::string> socket_row(const kernel::tcp_socket& s, const std::optional<std::string>& process, bool info);

/// -s: sockets per state and family, then every listener's queues with a note where one is
/// capped by somaxconn or over 80% full.
std::string socket_summary_text(const kernel::socket_summary& sum);
std::string socket_summary_json(const kernel::socket_summary& sum);

/// --top / --by: a row a group with a column for each state any group holds.
std::string socket_groups_text(const std::vector<kernel::socket_group>& rows, const char* key_name);
std::string socket_groups_json(const std::vector<kernel::socket_group>& rows, const char* key_name);

}  // namespace synscope::render
