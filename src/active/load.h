#pragma once
// synscope bench's engine: a connection-rate load generator, one epoll loop per thread.
//
// Closed loop (`count`, `concurrency`): keep `concurrency` attempts in flight until `count`
// have started. Open loop (`rate`): attempt i is due at start + i/rate, whether or not earlier
// ones finished; its time is measured from when it was due, so a server that stalls shows its
// stall in the latencies instead of slowing the generator down (no coordinated omission).
//
//   active::load_options o;
//   o.target = *core::parse_local_address("127.0.0.1:8080", "TARGET");
//   o.count = 10000; o.concurrency = 64;
//   auto r = active::run_load(o, stop_flag, {});
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/endpoint.h"
#include "core/error.h"
#include "core/histogram.h"

namespace synscope::active {

enum class load_mode {
  connect,  ///< handshake, then close
  request,  ///< handshake, send `data`, wait for the reply, close (a client of the article's kind)
  pooled,   ///< `concurrency` long-lived connections, each sending requests one after another
};
const char* load_mode_name(load_mode m);

struct load_options {
  core::socket_address target;
  load_mode mode = load_mode::connect;
  uint64_t count = 0;            ///< attempts (requests, pooled); 0: as many as rate x duration allows
  int concurrency = 1;           ///< at most this many in flight (pooled: connections)
  double rate = 0;               ///< open loop: attempts per second; 0: closed loop
  int64_t duration_ns = 0;       ///< stop starting new attempts after this long (0: only count)
  std::string data = "hello\n";  ///< the request (request and pooled modes)
  bool fastopen = false;         ///< send the request in the SYN (MSG_FASTOPEN)
  std::vector<core::socket_address> sources;  ///< local addresses, round robin (IP_BIND_ADDRESS_NO_PORT)
  int threads = 1;
  int64_t timeout_ns = 5'000'000'000;  ///< per attempt
};

/// Errors that are not an errno of a system call.
inline constexpr int error_timeout = -1;        ///< no answer within timeout_ns
inline constexpr int error_closed_early = -2;   ///< the server closed before replying
inline constexpr int error_bad_reply = -3;      ///< an HTTP reply that is not one (status line, length, chunk size)

struct load_report {
  uint64_t started = 0;            ///< = succeeded + failed
  uint64_t succeeded = 0;
  uint64_t failed = 0;
  std::map<int, uint64_t> errors;  ///< errno (or error_timeout, error_closed_early) -> attempts
  core::histogram handshake;       ///< ns: connect() -> established (pooled: once per connection)
  core::histogram request;         ///< ns: due time -> reply complete (request, pooled) or established (connect)
  uint64_t connections = 0;        ///< connections opened (pooled: fewer than requests)
  uint64_t data_in_syn = 0;        ///< fastopen: requests whose data left in the SYN
  uint64_t not_started = 0;        ///< open loop: due within the duration, but no slot freed up in time
  /// HTTP requests: replies by status code (ab's "Non-2xx responses" are the codes outside
  /// 200..299); a reply of any status is a succeeded attempt, as ab and wrk count it.
  std::map<int, uint64_t> http_status;
  uint64_t chunked_replies = 0;    ///< of those, with a chunked body
  int64_t elapsed_ns = 0;
  [[nodiscard]] uint64_t non_2xx() const {
    uint64_t n = 0;
    for (const auto& [code, count] : http_status) n += code >= 200 && code < 300 ? 0 : count;
    return n;
  }
  [[nodiscard]] uint64_t errors_of(int e) const {
    auto it = errors.find(e);
    return it == errors.end() ? 0 : it->second;
  }
};

/// `done`, `total` (0 when bounded by time only): called about every 200 ms from the caller's thread.
using load_progress = std::function<void(uint64_t done, uint64_t total)>;

/// Runs the load until count or duration is reached or `stop` is set; every attempt in flight
/// then finishes or times out. Bounded: needs count > 0 or duration_ns > 0.
core::result<load_report> run_load(const load_options& options, const std::atomic<bool>& stop,
                                   const load_progress& progress);

/// "127.0.0.2-127.0.0.60", "10.0.0.1", "10.0.0.1,10.0.0.2": the addresses, in order (at most 65536).
core::result<std::vector<core::socket_address>> parse_source_range(const std::string& text);

/// A readable name: "ECONNREFUSED", "timeout", "closed before reply".
std::string load_error_name(int e);

}  // namespace synscope::active
