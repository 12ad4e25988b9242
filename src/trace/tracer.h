#pragma once
// The BPF side of `synscope trace`: loads the tracepoint programs (trace/bpf/), attaches each
// one it can, and hands on what they record. Needs CAP_BPF and CAP_PERFMON, or root.
//
//   auto t = trace::tracer::open({.port = 8080});
//   if (!t) return fail(t.error());            // exit 77 without the capabilities
//   while (running) t->poll(100, [&](const trace::event& e) { table.add(e, print); });
//   uint64_t lost = t->lost();                 // ring buffer full: never silent
//
// Each tracepoint is attached on its own: one the kernel lacks (syscall tracepoints need
// CONFIG_FTRACE_SYSCALLS) leaves its hook inactive, said in hooks(), and the rest work.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "trace/event.h"

namespace synscope::trace {

struct tracer_options {
  uint16_t port = 0;    ///< only this server port (0: every port)
  uint32_t netns = 0;   ///< only this network namespace, by inode (0: every namespace)
};

/// One tracepoint and whether it is attached.
struct hook_status {
  std::string tracepoint;  ///< "net:netif_receive_skb"
  std::string moment;      ///< what it records: "SYN in"
  bool active = false;
  std::string error;       ///< why not, when not
};

class tracer {
 public:
  /// Loads and attaches. Errors: no permission (77), no BTF or no BPF in this kernel (3).
  static core::result<tracer> open(const tracer_options& options);

  tracer(tracer&&) noexcept;
  tracer& operator=(tracer&&) noexcept;
  ~tracer();

  /// Waits up to `timeout_ms` for events and hands each to `on_event`. Returns how many; a
  /// signal ends the wait early with 0.
  core::result<int> poll(int timeout_ms, const std::function<void(const event&)>& on_event);
  /// Events the programs could not write (ring buffer full), since open().
  [[nodiscard]] uint64_t lost() const;
  /// Records the loader could not decode (none unless the programs and loader disagree).
  [[nodiscard]] uint64_t malformed() const;
  [[nodiscard]] const std::vector<hook_status>& hooks() const;
  [[nodiscard]] const reason_names& reasons() const;
  /// CLOCK_REALTIME minus CLOCK_MONOTONIC, in ns, measured at open(): the events' times plus
  /// this are wall-clock times, as tcpdump prints them.
  [[nodiscard]] int64_t realtime_offset_ns() const;

 private:
  struct impl;
  explicit tracer(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace synscope::trace
