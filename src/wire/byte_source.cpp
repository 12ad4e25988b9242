#include "wire/byte_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <algorithm>
#include <cstring>
#include <utility>

#include <fmt/format.h>
#include <zlib.h>

namespace synscope::wire {
namespace {
// Compressed input is read and inflated in blocks of this size.
constexpr size_t block_size = size_t{1} << 20;
// Files and streams are read into a buffer of this size (grown only for a record larger than
// it): small enough to stay in the processor's cache while its records are decoded.
constexpr size_t read_size = size_t{256} << 10;

}  // namespace

struct byte_source::inflater {
  z_stream z{};
  std::vector<unsigned char> in = std::vector<unsigned char>(block_size);
  bool input_done = false;
  bool member_done = false;  // the last member ended; more input may start another
  inflater() { inflateInit2(&z, 15 + 16); }  // 15 + 16: a gzip header and trailer
  ~inflater() { inflateEnd(&z); }
  inflater(const inflater&) = delete;
  inflater& operator=(const inflater&) = delete;
};

namespace {
bool gzip_magic(const std::byte* p, size_t n) {
  return n >= 2 && p[0] == std::byte{0x1f} && p[1] == std::byte{0x8b};
}
}  // namespace

core::result<size_t> byte_source::read_more(std::byte* dst, size_t cap) {
  if (!gz_) {
    ssize_t got = core::retry_on_eintr([&] { return ::read(fd_.get(), dst, cap); });
    if (got < 0) {
      return core::system_error(fmt::format("{}: byte offset {}", core::printable(name_), offset_ + (end_ - begin_)),
                                "read", errno);
    }
    return static_cast<size_t>(got);
  }
  inflater& g = *gz_;
  g.z.next_out = reinterpret_cast<Bytef*>(dst);  // NOLINT: zlib's type
  g.z.avail_out = static_cast<uInt>(cap);
  while (g.z.avail_out == cap) {
    if (g.z.avail_in == 0 && !g.input_done) {
      ssize_t got = core::retry_on_eintr([&] { return ::read(fd_.get(), g.in.data(), g.in.size()); });
      if (got < 0) return core::system_error(fmt::format("{}: compressed input", core::printable(name_)), "read", errno);
      if (got == 0) g.input_done = true;
      g.z.next_in = g.in.data();
      g.z.avail_in = static_cast<uInt>(got);
    }
    if (g.z.avail_in == 0 && g.input_done) {
      if (!g.member_done) {
        return core::error{core::exit_code::bad_data,
                           fmt::format("{}: the gzip data ends early, at byte offset {} of the decompressed capture",
                                       core::printable(name_), offset_ + (end_ - begin_))};
      }
      break;  // the end
    }
    if (g.member_done) {  // another member follows (files joined with cat)
      inflateReset(&g.z);
      g.member_done = false;
    }
    int rc = inflate(&g.z, Z_NO_FLUSH);
    if (rc == Z_STREAM_END) {
      g.member_done = true;
    } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
      return core::error{core::exit_code::bad_data,
                         fmt::format("{}: not valid gzip data at byte offset {} of the decompressed capture ({})",
                                     core::printable(name_), offset_ + (end_ - begin_),
                                     g.z.msg != nullptr ? g.z.msg : "zlib error")};
    }
  }
  return cap - g.z.avail_out;
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
  std::byte magic[2]{};
  bool regular = fstat(s.fd_.get(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
  if (regular && pread(s.fd_.get(), magic, 2, 0) == 2 && gzip_magic(magic, 2)) {
    s.gz_ = std::make_unique<inflater>();  // read decompressed, as a stream
    s.sniffed_ = true;
    regular = false;
  }
  if (regular) s.file_size_ = static_cast<uint64_t>(st.st_size);
  s.buffer_.resize(read_size);
  return s;
}

byte_source byte_source::from_memory(bytes data, std::string name) {
  byte_source s;
  s.name_ = std::move(name);
  s.memory_ = data.data();
  s.memory_size_ = data.size();
  s.file_size_ = data.size();
  return s;
}

byte_source::byte_source(byte_source&&) noexcept = default;
byte_source& byte_source::operator=(byte_source&&) noexcept = default;
byte_source::~byte_source() = default;

bool byte_source::check_shrunk() noexcept {
  if (file_size_ == 0 || memory_ != nullptr || gz_ || shrunk_to_ != UINT64_MAX) return shrunk_to_ != UINT64_MAX;
  struct stat st {};
  if (fstat(fd_.get(), &st) != 0 || static_cast<uint64_t>(st.st_size) >= file_size_) return false;
  shrunk_to_ = static_cast<uint64_t>(st.st_size);
  return true;
}

core::result<bytes> byte_source::peek(size_t n) {
  if (memory_ != nullptr) {
    size_t pos = static_cast<size_t>(offset_);
    size_t have = pos < memory_size_ ? memory_size_ - pos : 0;
    return bytes(memory_ + pos, std::min(n, have));
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
      auto got = read_more(buffer_.data() + end_, buffer_.size() - end_);
      if (!got) return got.error();
      if (*got == 0) {
        eof_ = true;
      }
      end_ += *got;
      if (!sniffed_ && (end_ >= 2 || eof_)) {
        // The first bytes of a stream: compressed? Then they are the inflater's first input.
        sniffed_ = true;
        if (gzip_magic(buffer_.data(), end_)) {
          gz_ = std::make_unique<inflater>();
          std::memcpy(gz_->in.data(), buffer_.data(), end_);
          gz_->z.next_in = gz_->in.data();
          gz_->z.avail_in = static_cast<uInt>(end_);
          gz_->input_done = eof_;
          eof_ = false;
          end_ = 0;
        }
      }
    }
  }
  return bytes(buffer_.data() + begin_, std::min(n, end_ - begin_));
}

}  // namespace synscope::wire
