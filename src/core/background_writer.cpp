#include "core/background_writer.h"

#include <unistd.h>

#include <cerrno>
#include <utility>

namespace synscope::core {

background_writer::background_writer(int fd, size_t block_size, size_t blocks)
    : fd_(fd), block_size_(block_size), max_blocks_(blocks), current_(std::make_unique<block>(block_size)), made_(1) {
  thread_ = std::thread([this] { run(); });
}

background_writer::~background_writer() {
  if (thread_.joinable()) (void)finish();
}

char* background_writer::room(size_t n) {
  if (block_size_ - used_ < n) hand_over();
  return current_->data() + used_;
}

void background_writer::hand_over() {
  std::unique_lock lock(mutex_);
  full_.emplace_back(std::move(current_), used_);
  used_ = 0;
  changed_.notify_all();
  if (empty_.empty() && made_ < max_blocks_) {  // made as output grows: a small one needs one
    ++made_;
    current_ = std::make_unique<block>(block_size_);
    return;
  }
  changed_.wait(lock, [&] { return !empty_.empty(); });
  current_ = std::move(empty_.back());
  empty_.pop_back();
}

void background_writer::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [&] { return done_ || !full_.empty(); });
    if (full_.empty()) return;  // done, and everything written
    auto [b, n] = std::move(full_.front());
    full_.pop_front();
    bool failed = error_ != 0;
    lock.unlock();
    int err = 0;
    for (size_t off = 0; off < n && !failed;) {
      ssize_t w = ::write(fd_, b->data() + off, n - off);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        err = errno;
        break;
      }
      off += static_cast<size_t>(w);
    }
    lock.lock();
    if (err != 0 && error_ == 0) error_ = err;
    empty_.push_back(std::move(b));
    changed_.notify_all();
  }
}

int background_writer::finish() {
  if (!thread_.joinable()) return error_;
  {
    std::unique_lock lock(mutex_);
    if (used_ > 0) {
      full_.emplace_back(std::move(current_), used_);
      used_ = 0;
    }
    done_ = true;
    changed_.notify_all();
  }
  thread_.join();
  return error_;
}

}  // namespace synscope::core
