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
#include <cstddef>
#include <bitset>
#include <deque>
#include <memory>
#include <new>
#include <type_traits>
#include <vector>

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
  // Held connections in chunks that are reused as they empty: a deque allocated a block for
  // each connection (one is larger than its blocks), a ring grown by doubling copied them all.
  static constexpr size_t chunk_size = 256;
  // Storage for connections, constructed as they are held (a connection is trivially
  // copyable and destructible): a new chunk is not zeroed first, which was 4 % of a --json run.
  struct chunk {
    alignas(connection) std::byte items[chunk_size * sizeof(connection)];
    std::bitset<chunk_size> present;
    connection& at(size_t i) { return *std::launder(reinterpret_cast<connection*>(items + i * sizeof(connection))); }  // NOLINT
  };
  static_assert(std::is_trivially_copyable_v<connection> && std::is_trivially_destructible_v<connection>);
  void release_ready();
  [[nodiscard]] bool present(size_t i) const {
    size_t at = offset_ + i;
    return at / chunk_size < chunks_.size() && chunks_[at / chunk_size]->present[at % chunk_size];
  }
  void advance();  ///< moves past position 0 (id next_)

  connection_sink& out_;
  size_t window_;
  uint64_t next_ = 0;  ///< the id due next
  std::deque<std::unique_ptr<chunk>> chunks_;  ///< position i from next_ is at offset_ + i
  std::vector<std::unique_ptr<chunk>> spare_;
  size_t offset_ = 0;
  size_t held_count_ = 0;
  uint64_t out_of_order_ = 0;
};

}  // namespace synscope::tcp
