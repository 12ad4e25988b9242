#pragma once
// Output written to a file descriptor by a thread of its own, in large blocks: the thread that
// makes the output does not wait in write(2). For `analyze --json` into a file, the kernel's
// side of writing 130 MB (page cache allocation and copy) was a third of the run, on the same
// thread as the tracking and formatting.
//
//   core::background_writer out(STDOUT_FILENO);
//   char* at = out.room(max_line);          // at least max_line bytes
//   at = write_line(at, ...);
//   out.commit(at);
//   ...
//   if (int err = out.finish(); err != 0) report(err);   // waits for every byte
//
// Memory is bounded: at most `blocks` blocks of `block_size` bytes, made as the output grows and
// reused; room() waits when all are in flight. After a failed write the rest is dropped and
// finish() names the error.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "core/prefault.h"

namespace synscope::core {

class background_writer {
 public:
  explicit background_writer(int fd, size_t block_size = size_t{1} << 20, size_t blocks = 4);
  ~background_writer();
  background_writer(const background_writer&) = delete;
  background_writer& operator=(const background_writer&) = delete;

  /// A place for at least `n` bytes (n <= block_size), valid until commit().
  char* room(size_t n);
  /// The bytes up to `end` (from the last room()) are written.
  void commit(char* end) { used_ = static_cast<size_t>(end - current_->data()); }
  /// Writes what is left and waits for the thread: 0, or the errno of the first failed write.
  [[nodiscard]] int finish();

 private:
  // Not zeroed when made: every byte written out was written first.
  struct block {
    explicit block(size_t n) : bytes(std::make_unique_for_overwrite<char[]>(n)) { prefault(bytes.get(), n); }
    char* data() { return bytes.get(); }
    std::unique_ptr<char[]> bytes;
  };
  void hand_over();  ///< queues current_ and takes an empty block
  void run();

  int fd_;
  size_t block_size_;
  size_t max_blocks_;
  std::unique_ptr<block> current_;
  size_t used_ = 0;
  size_t made_ = 0;  ///< blocks made so far (at most max_blocks_)

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::pair<std::unique_ptr<block>, size_t>> full_;  ///< blocks and their length, in order
  std::vector<std::unique_ptr<block>> empty_;
  bool done_ = false;
  int error_ = 0;  ///< errno of the first failed write
  std::thread thread_;
};

}  // namespace synscope::core
