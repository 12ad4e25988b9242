#pragma once
// The seed's best-practice checklist, checked live: each check looks at this host's (or
// namespace's) sockets, counters over a short window and settings, and gives a verdict, the
// numbers behind it and the exact fix.
//
//   doctor::options o;  o.window_ns = 1'000'000'000;
//   auto findings = doctor::examine(o);
//   for (const auto& f : *findings) ...   // group, check, verdict, summary, evidence, fix
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "trace/live.h"

namespace synscope::doctor {

enum class verdict { pass, info, warn, fail };
const char* verdict_name(verdict v);  ///< "PASS", "INFO", "WARN", "FAIL"

struct finding {
  std::string group;  ///< backlog, queues, half-open, failures, time-wait, close-wait, fastopen, timers, self-test
  std::string check;  ///< a short name within the group
  verdict level = verdict::pass;
  std::string summary;  ///< one line, with the numbers
  std::vector<std::pair<std::string, std::string>> evidence;
  std::string fix;  ///< a command; empty for PASS and INFO
};

struct options {
  int64_t window_ns = 1'000'000'000;  ///< how long counters are watched for growth
  std::string proc_root = "/proc";
  bool self_test = true;              ///< a loopback listener and a short burst of handshakes
  std::vector<std::string> only;      ///< groups to run (empty: all)
  /// Reads a handshake trace that runs through the window (trace::background::read): the queues
  /// group then has each listener's accept-queue wait and its own accept-queue drops ("tier:
  /// eBPF trace"). Empty: sock_diag and the counters alone ("tier: counters").
  std::function<void(const trace::view_fn&)> trace;
};

/// The groups, in the order they are reported (one table in doctor.cpp names them and their checks).
const std::vector<std::string>& groups();
/// The same, as "backlog, queues, ...", for help and errors.
std::string group_list();

/// Runs every check (or those of `only`). Fails only when the kernel cannot be read at all.
core::result<std::vector<finding>> examine(const options& o);

/// The worst verdict of all.
verdict worst(const std::vector<finding>& findings);

}  // namespace synscope::doctor
