#include "wire/byte_source.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace synscope::wire {
namespace {
constexpr size_t block_size = size_t{1} << 20;
}

core::result<byte_source> byte_source::open(const std::string& path) {
  byte_source s;
  s.name_ = path == "-" ? "<stdin>" : path;
  if (path == "-") {
    s.fd_.reset(dup(STDIN_FILENO));
  } else {
    s.fd_.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  }
  if (!s.fd_) {
    return core::error{core::exit_code::usage,
                       fmt::format("{}: cannot open: {} ({})", core::printable(s.name_), std::strerror(errno),
                                   core::errno_name(errno))};
  }
  struct stat st {};
  if (fstat(s.fd_.get(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return core::error{core::exit_code::usage, fmt::format("{}: is a directory", core::printable(s.name_))};
  }
  if (fstat(s.fd_.get(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    void* m = mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, s.fd_.get(), 0);
    if (m != MAP_FAILED) {
      madvise(m, static_cast<size_t>(st.st_size), MADV_SEQUENTIAL);
      s.map_ = static_cast<const std::byte*>(m);
      s.map_size_ = static_cast<size_t>(st.st_size);
      s.owns_map_ = true;
      return s;
    }
  }
  s.buffer_.resize(block_size);  // a stream, or a file that cannot be mapped
  return s;
}

byte_source byte_source::from_memory(bytes data, std::string name) {
  byte_source s;
  s.name_ = std::move(name);
  s.map_ = data.data();
  s.map_size_ = data.size();
  return s;
}

byte_source::byte_source(byte_source&& o) noexcept
    : name_(std::move(o.name_)),
      fd_(std::move(o.fd_)),
      map_(std::exchange(o.map_, nullptr)),
      owns_map_(std::exchange(o.owns_map_, false)),
      released_(o.released_),
      map_size_(std::exchange(o.map_size_, 0)),
      buffer_(std::move(o.buffer_)),
      begin_(o.begin_),
      end_(o.end_),
      eof_(o.eof_),
      offset_(o.offset_) {}

byte_source& byte_source::operator=(byte_source&& o) noexcept {
  if (this != &o) {
    if (owns_map_) {
      munmap(const_cast<std::byte*>(map_), map_size_);  // NOLINT: munmap's signature
    }
    name_ = std::move(o.name_);
    fd_ = std::move(o.fd_);
    map_ = std::exchange(o.map_, nullptr);
    owns_map_ = std::exchange(o.owns_map_, false);
    map_size_ = std::exchange(o.map_size_, 0);
    released_ = o.released_;
    buffer_ = std::move(o.buffer_);
    begin_ = o.begin_;
    end_ = o.end_;
    eof_ = o.eof_;
    offset_ = o.offset_;
  }
  return *this;
}

byte_source::~byte_source() {
  if (owns_map_) {
    munmap(const_cast<std::byte*>(map_), map_size_);  // NOLINT: munmap's signature
  }
}

void byte_source::release_behind() noexcept {
  // Keep the page holding the current position: the next record may start inside it.
  size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  size_t upto = (static_cast<size_t>(offset_) / page) * page;
  if (upto > released_) {
    madvise(const_cast<std::byte*>(map_) + released_, upto - released_, MADV_DONTNEED);  // NOLINT
    released_ = upto;
  }
}

core::result<bytes> byte_source::peek(size_t n) {
  if (map_ != nullptr) {
    size_t pos = static_cast<size_t>(offset_);
    size_t have = pos < map_size_ ? map_size_ - pos : 0;
    return bytes(map_ + pos, std::min(n, have));
  }
  if (end_ - begin_ < n && !eof_) {
    // Keep the unconsumed tail, move it to the front, grow if one record needs more room.
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
    if (buffer_.size() < n) {
      buffer_.resize(std::max(n, buffer_.size() * 2));
    }
    while (end_ < n && !eof_) {
      ssize_t got = core::retry_on_eintr([&] { return read(fd_.get(), buffer_.data() + end_, buffer_.size() - end_); });
      if (got < 0) {
        return core::system_error(fmt::format("{}: byte offset {}", core::printable(name_), offset_ + (end_ - begin_)),
                                  "read", errno);
      }
      if (got == 0) {
        eof_ = true;
      }
      end_ += static_cast<size_t>(got);
    }
  }
  return bytes(buffer_.data() + begin_, std::min(n, end_ - begin_));
}

}  // namespace synscope::wire
