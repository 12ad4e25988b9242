#include "wire/byte_source.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <algorithm>
#include <cstring>
#include <mutex>

#include <fmt/format.h>
#include <zlib.h>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22  // Linux 5.14; older C libraries do not name it
#endif

namespace synscope::wire {
namespace {
constexpr size_t block_size = size_t{1} << 20;

// The mappings the SIGBUS handler may repair: begin and end addresses, and the file offset from
// which bytes were lost. A fixed table of atomics, so the handler needs no lock.
struct guarded_mapping {
  std::atomic<uintptr_t> begin{0};
  std::atomic<uintptr_t> end{0};
  std::atomic<uint64_t> lost_from{UINT64_MAX};
};
constexpr int max_guarded = 64;
guarded_mapping guarded[max_guarded];
std::mutex guard_mutex;  // taking and giving back slots (not the handler)
uintptr_t page_size = 4096;
struct sigaction previous_sigbus {};

void on_sigbus(int sig, siginfo_t* info, void* context) {
  auto addr = reinterpret_cast<uintptr_t>(info->si_addr);  // NOLINT: the kernel's type
  for (auto& g : guarded) {
    uintptr_t b = g.begin.load(std::memory_order_acquire);
    uintptr_t e = g.end.load(std::memory_order_acquire);
    if (b == 0 || addr < b || addr >= e) continue;
    // Past the file's new end: zero pages from here to the end of the mapping, so the read that
    // faulted (and every later one) sees zeros instead of killing the process.
    uintptr_t page = addr & ~(page_size - 1);
    void* m = mmap(reinterpret_cast<void*>(page), e - page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);  // NOLINT
    if (m == MAP_FAILED) break;
    uint64_t lost = page - b;
    uint64_t seen = g.lost_from.load(std::memory_order_relaxed);
    while (lost < seen && !g.lost_from.compare_exchange_weak(seen, lost, std::memory_order_release)) {
    }
    return;
  }
  // Not one of ours: whatever was there before us.
  if ((previous_sigbus.sa_flags & SA_SIGINFO) != 0 && previous_sigbus.sa_sigaction != nullptr) {
    previous_sigbus.sa_sigaction(sig, info, context);
    return;
  }
  if (previous_sigbus.sa_handler != SIG_DFL && previous_sigbus.sa_handler != SIG_IGN && previous_sigbus.sa_handler != nullptr) {
    previous_sigbus.sa_handler(sig);
    return;
  }
  signal(SIGBUS, SIG_DFL);  // returning re-runs the access, which now ends the process as before
}

int guard_mapping(const std::byte* map, size_t size) {
  std::lock_guard lock(guard_mutex);
  static bool installed = false;
  if (!installed) {
    page_size = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
    struct sigaction sa {};
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGBUS, &sa, &previous_sigbus) != 0) return -1;
    installed = true;
  }
  for (int i = 0; i < max_guarded; ++i) {
    if (guarded[i].begin.load(std::memory_order_relaxed) != 0) continue;
    guarded[i].lost_from.store(UINT64_MAX, std::memory_order_relaxed);
    guarded[i].end.store(reinterpret_cast<uintptr_t>(map) + size, std::memory_order_release);  // NOLINT
    guarded[i].begin.store(reinterpret_cast<uintptr_t>(map), std::memory_order_release);      // NOLINT
    return i;
  }
  return -1;  // more mappings than slots: this one is read unguarded, as before
}

void unguard_mapping(int slot) {
  if (slot < 0) return;
  std::lock_guard lock(guard_mutex);
  guarded[slot].begin.store(0, std::memory_order_release);
  guarded[slot].end.store(0, std::memory_order_release);
}

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
  if (regular) {
    void* m = mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, s.fd_.get(), 0);
    if (m != MAP_FAILED) {
      madvise(m, static_cast<size_t>(st.st_size), MADV_SEQUENTIAL);
      s.map_ = static_cast<const std::byte*>(m);
      s.map_size_ = static_cast<size_t>(st.st_size);
      s.owns_map_ = true;
      s.guard_ = guard_mapping(s.map_, s.map_size_);
      s.upkeep();
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
      guard_(std::exchange(o.guard_, -1)),
      shrunk_to_(o.shrunk_to_),
      released_(o.released_),
      populated_(o.populated_),
      next_upkeep_(o.next_upkeep_),
      map_size_(std::exchange(o.map_size_, 0)),
      buffer_(std::move(o.buffer_)),
      begin_(o.begin_),
      end_(o.end_),
      eof_(o.eof_),
      sniffed_(o.sniffed_),
      offset_(o.offset_),
      gz_(std::move(o.gz_)) {}

byte_source& byte_source::operator=(byte_source&& o) noexcept {
  if (this != &o) {
    if (owns_map_) {
      unguard_mapping(guard_);
      munmap(const_cast<std::byte*>(map_), map_size_);  // NOLINT: munmap's signature
    }
    name_ = std::move(o.name_);
    guard_ = std::exchange(o.guard_, -1);
    shrunk_to_ = o.shrunk_to_;
    fd_ = std::move(o.fd_);
    map_ = std::exchange(o.map_, nullptr);
    owns_map_ = std::exchange(o.owns_map_, false);
    map_size_ = std::exchange(o.map_size_, 0);
    released_ = o.released_;
    populated_ = o.populated_;
    next_upkeep_ = o.next_upkeep_;
    buffer_ = std::move(o.buffer_);
    begin_ = o.begin_;
    end_ = o.end_;
    eof_ = o.eof_;
    sniffed_ = o.sniffed_;
    offset_ = o.offset_;
    gz_ = std::move(o.gz_);
  }
  return *this;
}

byte_source::~byte_source() {
  if (owns_map_) {
    unguard_mapping(guard_);
    munmap(const_cast<std::byte*>(map_), map_size_);  // NOLINT: munmap's signature
  }
}

uint64_t byte_source::lost_from() const noexcept {
  uint64_t faulted = guard_ < 0 ? UINT64_MAX : guarded[guard_].lost_from.load(std::memory_order_acquire);
  if (faulted != UINT64_MAX && shrunk_to_ == UINT64_MAX) {
    // A fault marks the first page past the new end; the size says where in the page before it.
    struct stat st {};
    if (fstat(fd_.get(), &st) == 0 && static_cast<uint64_t>(st.st_size) < faulted) return static_cast<uint64_t>(st.st_size);
  }
  return std::min(faulted, shrunk_to_);
}

bool byte_source::check_shrunk() noexcept {
  if (!owns_map_) return false;
  struct stat st {};
  if (fstat(fd_.get(), &st) != 0 || static_cast<uint64_t>(st.st_size) >= map_size_) return false;
  shrunk_to_ = std::min<uint64_t>(shrunk_to_, static_cast<uint64_t>(st.st_size));
  return true;
}

void byte_source::upkeep() noexcept {
  auto* base = const_cast<std::byte*>(map_);  // NOLINT: madvise's signature
  size_t pos = static_cast<size_t>(offset_);
  size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  // Errors are harmless here: a kernel before 5.14 does not know MADV_POPULATE_READ (the
  // pages then fault in as they are read), and a file that shrank is caught by the reader.
  size_t until = std::min(map_size_, pos + populate_ahead);
  if (until > populated_) {
    size_t from = (std::max(populated_, pos) / page) * page;
    madvise(base + from, until - from, MADV_POPULATE_READ);
    populated_ = until;
  }
  // Keep the page holding the current position: the next record may start inside it.
  size_t upto = (pos / page) * page;
  if (upto >= released_ + release_step) {
    madvise(base + released_, upto - released_, MADV_DONTNEED);
    released_ = upto;
  }
  next_upkeep_ = offset_ + upkeep_step;
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
