#pragma once
// Where capture bytes come from: a file or a stream such as stdin, read with read(2) into a
// buffer that views point into, or memory the caller holds (fuzz targets, tests). A
// gzip-compressed input (a .pcap.gz, `gzip -c | synscope analyze -`; several members one after
// another too) is recognised by its magic and read as a stream of its decompressed bytes:
// offsets in messages are then offsets in the decompressed capture.
//
// Files are read, not mapped. On this project's VMs the first touch of each page of a mapping
// cost more than the kernel's copy into a buffer that stays in cache: analyze with one thread
// went from 152 ms to 111 ms on a 99 MB capture (docs/benchmarks.md). A file that shrinks
// while it is read (a capture being rotated or truncated) ends early; check_shrunk() tells that
// apart from a file that was always short, and the reader stops with an error naming the file
// and the offset.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/unique_fd.h"
#include "wire/bytes.h"

namespace synscope::wire {

class byte_source {
 public:
  /// Opens `path` ("-" is standard input).
  static core::result<byte_source> open(const std::string& path);
  /// A source over bytes the caller keeps alive (fuzz targets, tests).
  static byte_source from_memory(bytes data, std::string name);

  byte_source(byte_source&&) noexcept;
  byte_source& operator=(byte_source&&) noexcept;
  byte_source(const byte_source&) = delete;
  byte_source& operator=(const byte_source&) = delete;
  ~byte_source();

  /// Up to `n` contiguous bytes at the current position; fewer only at the end of the input.
  /// The view stays valid until the next peek().
  core::result<bytes> peek(size_t n);
  /// Every byte at hand from the current position with no read: to the end of the caller's
  /// memory, or what the buffer holds. The readers' fast path (no copy, no error path); valid
  /// until the next peek(), which reads more when a record runs past it.
  [[nodiscard]] bytes contiguous_rest() const noexcept {
    if (memory_ != nullptr) {
      size_t pos = static_cast<size_t>(offset_);
      return pos < memory_size_ ? bytes(memory_ + pos, memory_size_ - pos) : bytes();
    }
    return bytes(buffer_.data() + begin_, end_ - begin_);
  }
  /// Moves the position forward; `n` must not exceed what the last peek() returned.
  void consume(size_t n) noexcept {
    offset_ += n;
    begin_ += n;
  }

  [[nodiscard]] uint64_t offset() const noexcept { return offset_; }
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  /// True when the input is gzip-compressed (and read decompressed).
  [[nodiscard]] bool compressed() const noexcept { return gz_ != nullptr; }
  /// The total size when known (regular files, memory), else 0.
  [[nodiscard]] uint64_t size() const noexcept { return file_size_; }
  /// For a file that shrank while it was read: the byte offset from which its contents are
  /// gone (its new size). UINT64_MAX while nothing was lost.
  [[nodiscard]] uint64_t lost_from() const noexcept { return shrunk_to_; }
  /// At the end of the input: asks the file system whether a regular file is now shorter than
  /// when it was opened; true, and lost_from() is its new size, when it is.
  bool check_shrunk() noexcept;

 private:
  byte_source() = default;
  struct inflater;  // zlib's state, on the heap: z_stream points back at itself
  // Reads up to `cap` more bytes of input into `dst`: from the descriptor, or decompressed.
  core::result<size_t> read_more(std::byte* dst, size_t cap);
  std::string name_;
  core::unique_fd fd_;
  const std::byte* memory_ = nullptr;  // the caller's memory (from_memory), else nullptr
  size_t memory_size_ = 0;
  uint64_t file_size_ = 0;             // a regular file's size when opened; 0 for a stream
  uint64_t shrunk_to_ = UINT64_MAX;    // the file's size when check_shrunk() found it smaller
  // Bytes read ahead, not zeroed when made or grown (every byte used was read into it first).
  class read_buffer {
   public:
    [[nodiscard]] std::byte* data() noexcept { return bytes_.get(); }
    [[nodiscard]] const std::byte* data() const noexcept { return bytes_.get(); }
    [[nodiscard]] size_t size() const noexcept { return size_; }
    void resize(size_t n) {  // keeps the first min(size, n) bytes
      auto grown = std::make_unique_for_overwrite<std::byte[]>(n);
      if (size_ > 0) std::memcpy(grown.get(), bytes_.get(), std::min(size_, n));
      bytes_ = std::move(grown);
      size_ = n;
    }

   private:
    std::unique_ptr<std::byte[]> bytes_;
    size_t size_ = 0;
  };
  read_buffer buffer_;              // bytes [begin_, end_) not yet consumed
  size_t begin_ = 0;
  size_t end_ = 0;
  bool eof_ = false;
  bool sniffed_ = false;            // stream: the first bytes were looked at for a gzip magic
  uint64_t offset_ = 0;
  std::unique_ptr<inflater> gz_;
};

}  // namespace synscope::wire
