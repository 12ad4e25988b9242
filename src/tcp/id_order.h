#pragma once
// Connections in the order they began (their ids), though the tracker finishes them in the order
// they end: what `analyze --json` and `--csv` write, so that line N is connection N and two runs
// over one capture diff cleanly.
//
//   tcp::id_order_sink ordered(printer, options.tracker.max_open);
//   tcp::analyze(options, &ordered, progress);
//   ordered.flush();
//
// A connection that is still open holds back the ones that began after it. At most `window`
// are held: past that, the earliest held one is passed on as if the open one had come (it
// comes later, out of order), so memory stays bounded on a capture with a connection open from
// its first packet to its last.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>

#include "tcp/tracker.h"

namespace synscope::tcp {

class id_order_sink : public connection_sink {
 public:
  id_order_sink(connection_sink& out, size_t window) : out_(out), window_(window == 0 ? 1 : window) {}
  void on_connection(const connection& c) override;
  /// Passes on every held connection, in id order (at the end of the input).
  void flush();
  /// Connections passed on out of id order because the window was full.
  [[nodiscard]] uint64_t out_of_order() const { return out_of_order_; }

 private:
  void release_ready();

  connection_sink& out_;
  size_t window_;
  uint64_t next_ = 0;                          ///< the id due next
  std::deque<std::optional<connection>> held_;  ///< held_[i] is id next_ + i
  size_t held_count_ = 0;
  uint64_t out_of_order_ = 0;
};

}  // namespace synscope::tcp
