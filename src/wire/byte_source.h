#pragma once
// Where capture bytes come from: a memory-mapped regular file (views point straight into the
// mapping) or a stream such as stdin (read in 1 MiB blocks into a buffer that views point into).
// A gzip-compressed input (a .pcap.gz, `gzip -c | synscope analyze -`; several members one after
// another too) is recognised by its magic and read as a stream of its decompressed bytes:
// offsets in messages are then offsets in the decompressed capture.
//
// A mapped file that shrinks while it is read (a capture being rotated or truncated) would kill
// the process with SIGBUS at the first page past its new end. A handler of our own maps zero
// pages over the rest of the mapping instead and records where the bytes were lost; the reader
// asks lost_from() and stops there with an error naming the file and the offset.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/unique_fd.h"
#include "wire/bytes.h"

namespace synscope::wire {

class byte_source {
 public:
  /// Opens `path` ("-" is standard input). Regular files are mapped; anything else is streamed.
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
  /// For mapped input, every byte from the current position to the end (no copy, no error
  /// path): the readers' fast path. Empty for streams and at the end.
  [[nodiscard]] bytes mapped_rest() const noexcept {
    size_t pos = static_cast<size_t>(offset_);
    return map_ != nullptr && pos < map_size_ ? bytes(map_ + pos, map_size_ - pos) : bytes();
  }
  /// Moves the position forward; `n` must not exceed what the last peek() returned.
  void consume(size_t n) noexcept {
    offset_ += n;
    begin_ += n;
    if (owns_map_ && offset_ >= next_upkeep_) upkeep();
  }

  [[nodiscard]] uint64_t offset() const noexcept { return offset_; }
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  /// True when the input is gzip-compressed (and read decompressed).
  [[nodiscard]] bool compressed() const noexcept { return gz_ != nullptr; }
  /// The total size when known (mapped files), else 0.
  [[nodiscard]] uint64_t size() const noexcept { return map_size_; }
  /// For a mapped file that shrank while it was read: the byte offset from which its contents
  /// are gone (what was read there since is zeros). UINT64_MAX while nothing was lost.
  [[nodiscard]] uint64_t lost_from() const noexcept;
  /// Asks the file system whether a mapped file is now shorter than when it was mapped (the
  /// bytes between its new end and the next page read as zeros, without a fault); true, and
  /// lost_from() is its new size, when it is.
  bool check_shrunk() noexcept;

 private:
  byte_source() = default;
  struct inflater;  // zlib's state, on the heap: z_stream points back at itself
  // Reads up to `cap` more bytes of input into `dst`: from the descriptor, or decompressed.
  core::result<size_t> read_more(std::byte* dst, size_t cap);
  // Every 2 MiB read, a mapped file's page table is filled ahead (MADV_POPULATE_READ) up to
  // 4 MiB past the position: one call instead of a fault every 16 pages, which cost most in
  // this project's VMs (analyze up to 11 % faster, docs/benchmarks.md). Pages already read are
  // dropped from this process every 8 MiB, so a large file does not count in its resident
  // memory (they stay in the page cache).
  static constexpr size_t upkeep_step = size_t{2} << 20;
  static constexpr size_t populate_ahead = size_t{4} << 20;
  static constexpr size_t release_step = size_t{8} << 20;
  void upkeep() noexcept;
  std::string name_;
  core::unique_fd fd_;
  const std::byte* map_ = nullptr;  // mapped file or caller's memory; nullptr for a stream
  bool owns_map_ = false;           // munmap on destruction
  int guard_ = -1;                  // slot in the SIGBUS handler's table of mappings, or -1
  uint64_t shrunk_to_ = UINT64_MAX; // the file's size when check_shrunk() found it smaller
  size_t released_ = 0;             // mapped bytes before this were handed back (MADV_DONTNEED)
  size_t populated_ = 0;            // mapped bytes before this have their page table filled
  uint64_t next_upkeep_ = 0;        // the position at which consume() calls upkeep()
  size_t map_size_ = 0;
  std::vector<std::byte> buffer_;   // stream: bytes [begin_, end_) not yet consumed
  size_t begin_ = 0;
  size_t end_ = 0;
  bool eof_ = false;
  bool sniffed_ = false;            // stream: the first bytes were looked at for a gzip magic
  uint64_t offset_ = 0;
  std::unique_ptr<inflater> gz_;
};

}  // namespace synscope::wire
