#pragma once
// A source of frames that arrive over time (a live interface), as the analyzer pipeline reads
// it. Capture files are read through wire::capture_reader directly (the hot path needs no
// virtual call per frame); a live source hands out what arrived in batches.
//
//   class my_source : public wire::live_source { ... };
//   tcp::analyze_live(source, options, live, on_interval);
#include <cstdint>
#include <functional>
#include <string>

#include "core/error.h"
#include "wire/capture_reader.h"

namespace synscope::wire {

/// What the kernel says of a live source (pcap_stats).
struct source_stats {
  uint64_t received = 0;    ///< ps_recv: packets the filter passed
  uint64_t dropped = 0;     ///< ps_drop: the ring was full
  uint64_t if_dropped = 0;  ///< ps_ifdrop: the interface dropped them
};

using frame_fn = std::function<void(const frame&)>;

class live_source {
 public:
  live_source() = default;
  live_source(const live_source&) = delete;
  live_source& operator=(const live_source&) = delete;
  live_source(live_source&&) = default;
  live_source& operator=(live_source&&) = default;
  virtual ~live_source() = default;

  /// What the source is: an interface's name ("eth0", "any").
  [[nodiscard]] virtual std::string name() const = 0;
  /// Hands every frame that arrived to `fn` (each valid during the call only); waits a bounded
  /// time (a buffer timeout) when nothing did. Returns how many frames it handed out.
  virtual core::result<size_t> dispatch(const frame_fn& fn) = 0;
  /// After stop or a deadline: hands out what is still buffered, so nothing captured is lost.
  virtual core::result<size_t> drain(const frame_fn& fn) = 0;
  /// Makes a dispatch() in progress return early.
  virtual void stop() = 0;
  [[nodiscard]] virtual source_stats stats() const = 0;
};

}  // namespace synscope::wire
