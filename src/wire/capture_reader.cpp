#include "wire/capture_reader.h"

#include <fmt/format.h>

namespace synscope::wire {
namespace {

constexpr uint32_t pcap_magic_us = 0xa1b2c3d4;
constexpr uint32_t pcap_magic_ns = 0xa1b23c4d;
constexpr uint32_t pcapng_shb = 0x0a0d0d0a;
constexpr uint32_t pcapng_bom = 0x1a2b3c4d;
constexpr size_t pcap_header_len = 24;
constexpr size_t pcap_record_len = 16;
// libpcap refuses records larger than max(snaplen, this) ("bogus savefile header").
constexpr uint32_t max_snaplen_default = 262144;
// A pcapng block larger than this is taken for corruption, not a packet (tshark: 16 MiB).
constexpr uint32_t max_block_len = 16u << 20;

enum : uint32_t { idb = 1, opb = 2, spb = 3, epb = 6 };

// 64-bit timestamp units times 10^9 need 128 bits (g++ and clang both have them).
__extension__ using i128 = __int128;

}  // namespace

core::result<capture_reader> capture_reader::open(const std::string& path) {
  auto source = byte_source::open(path);
  if (!source) {
    return source.error();
  }
  return start(std::move(*source));
}

core::result<capture_reader> capture_reader::open_memory(bytes data, std::string name) {
  return start(byte_source::from_memory(data, std::move(name)));
}

core::result<capture_reader> capture_reader::start(byte_source source) {
  capture_reader reader(std::move(source));
  auto head = reader.source_.peek(pcap_header_len);
  if (!head) {
    return head.error();
  }
  if (head->size() < 4) {
    return core::error{core::exit_code::bad_data,
                       fmt::format("{}: not a capture file: only {} bytes", core::printable(reader.name()), head->size())};
  }
  uint32_t magic = load_u32le(head->data());
  if (magic == pcapng_shb) {
    reader.format_ = capture_format::pcapng;
    return reader;  // the section header is read as the first block
  }
  if (auto r = reader.read_pcap_header(*head); !r) {
    return r.error();
  }
  return reader;
}

core::error capture_reader::corrupt(uint64_t offset, const std::string& what) const {
  return core::error{core::exit_code::bad_data, fmt::format("{}: byte offset {}, packet {}: {}",
                                                            core::printable(name()), offset, stats_.frames + 1, what)};
}

bool capture_reader::truncated(const std::string& what) {
  stats_.truncated = true;
  stats_.truncation = fmt::format("{}: cut short at byte offset {} in packet {}: {}", core::printable(name()),
                                  source_.offset(), stats_.frames + 1, what);
  return false;
}

uint16_t capture_reader::first_linktype() const noexcept {
  if (format_ == capture_format::pcap) return linktype_;
  return interfaces_.empty() ? 0 : interfaces_.front().linktype;
}

core::result<bool> capture_reader::next(frame& out) {
  auto r = format_ == capture_format::pcap ? next_pcap(out) : next_pcapng(out);
  bool got = r.ok() && *r;
  // A file that shrinks while it is read ends early, maybe inside a record: at the end (or at
  // an error, which a cut record is) the file's size says whether that is what happened.
  if (!got) source_.check_shrunk();
  if (uint64_t lost = source_.lost_from(); lost != UINT64_MAX && (!got || source_.offset() > lost)) {
    return core::error{core::exit_code::bad_data,
                       fmt::format("{}: the file shrank while it was read: the bytes from offset {} on are gone (a "
                                   "capture rotated or truncated?); results up to packet {}",
                                   core::printable(name()), lost, stats_.frames)};
  }
  if (got) out.number = ++stats_.frames;
  return r;
}

// ---- pcap ------------------------------------------------------------------------------

core::result<void> capture_reader::read_pcap_header(bytes head) {
  uint32_t magic = load_u32le(head.data());
  if (magic == pcap_magic_us || magic == pcap_magic_ns) {
    big_endian_ = false;
  } else if (__builtin_bswap32(magic) == pcap_magic_us || __builtin_bswap32(magic) == pcap_magic_ns) {
    big_endian_ = true;
    magic = __builtin_bswap32(magic);
  } else {
    uint32_t be = load_u32be(head.data());
    // Compressed with something other than gzip (which is read as it is): say which.
    const char* tool = be == 0x28b52ffd ? "zstd" : be == 0xfd377a58 ? "xz" : (be >> 8) == 0x425a68 ? "bzip2"
                       : be == 0x04224d18 ? "lz4" : nullptr;
    if (tool != nullptr) {
      return corrupt(0, fmt::format("compressed with {}: decompress it first ({} -dc FILE | synscope analyze -); "
                                    "gzip is read as it is",
                                    tool, tool));
    }
    return corrupt(0, fmt::format("not a pcap or pcapng file (magic 0x{:08x})", be));
  }
  nanoseconds_ = magic == pcap_magic_ns;
  if (head.size() < pcap_header_len) {
    return corrupt(0, fmt::format("pcap file header cut short ({} of 24 bytes)", head.size()));
  }
  uint16_t major = load_u16(head.data() + 4, big_endian_);
  if (major != 2) {
    return corrupt(4, fmt::format("unsupported pcap version {}.{}", major, load_u16(head.data() + 6, big_endian_)));
  }
  snaplen_ = load_u32(head.data() + 16, big_endian_);
  linktype_ = static_cast<uint16_t>(load_u32(head.data() + 20, big_endian_) & 0xffff);  // upper bits: FCS info
  source_.consume(pcap_header_len);
  return {};
}


core::result<bool> capture_reader::next_pcap(frame& out) {
  uint64_t at = source_.offset();
  // Fast path: a whole, plausible record in the bytes at hand. Anything else (a record that
  // runs past the buffer, the end of the input, errors) takes the general path below.
  if (bytes rest = source_.contiguous_rest(); rest.size() >= pcap_record_len) {
    uint32_t caplen = load_u32(rest.data() + 8, big_endian_);
    uint32_t frac = load_u32(rest.data() + 4, big_endian_);
    if (caplen <= std::max(snaplen_, max_snaplen_default) && rest.size() - pcap_record_len >= caplen &&
        frac < (nanoseconds_ ? 1'000'000'000u : 1'000'000u)) {
      uint32_t sec = load_u32(rest.data(), big_endian_);
      out.offset = at;
      out.ts_ns = static_cast<int64_t>(sec) * 1'000'000'000 + static_cast<int64_t>(frac) * (nanoseconds_ ? 1 : 1000);
      out.caplen = caplen;
      out.origlen = load_u32(rest.data() + 12, big_endian_);
      out.linktype = linktype_;
      out.interface_id = 0;
      out.data = rest.subspan(pcap_record_len, caplen);
      source_.consume(pcap_record_len + caplen);
      return true;
    }
  }
  auto head = source_.peek(pcap_record_len);
  if (!head) return head.error();
  if (head->empty()) return false;
  if (head->size() < pcap_record_len) {
    return truncated(fmt::format("record header has {} of 16 bytes", head->size()));
  }
  uint32_t sec = load_u32(head->data(), big_endian_);
  uint32_t frac = load_u32(head->data() + 4, big_endian_);
  uint32_t caplen = load_u32(head->data() + 8, big_endian_);
  uint32_t origlen = load_u32(head->data() + 12, big_endian_);
  uint32_t limit = std::max(snaplen_, max_snaplen_default);
  if (caplen > limit) {
    return corrupt(at, fmt::format("record length {} exceeds the snapshot length {}", caplen, limit));
  }
  auto rec = source_.peek(pcap_record_len + caplen);
  if (!rec) return rec.error();
  if (rec->size() < pcap_record_len + caplen) {
    return truncated(fmt::format("record needs {} bytes of data, the input has {}", caplen,
                                 rec->size() - pcap_record_len));
  }
  // A fraction of a second >= 1 s is corrupt; like tshark, carry it into the seconds.
  if (frac >= (nanoseconds_ ? 1'000'000'000u : 1'000'000u)) {
    ++stats_.odd_timestamps;
  }
  out.offset = at;
  out.ts_ns = static_cast<int64_t>(sec) * 1'000'000'000 + static_cast<int64_t>(frac) * (nanoseconds_ ? 1 : 1000);
  out.caplen = caplen;
  out.origlen = origlen;
  out.linktype = linktype_;
  out.interface_id = 0;
  out.data = rec->subspan(pcap_record_len, caplen);
  source_.consume(pcap_record_len + caplen);
  return true;
}

// ---- pcapng ----------------------------------------------------------------------------

int64_t capture_reader::pcapng_time(const interface& itf, uint64_t units) const {
  i128 ns = 0;
  if (itf.tsresol_power_of_two) {
    ns = (static_cast<i128>(units) * 1'000'000'000) >> itf.tsresol;
  } else if (itf.tsresol <= 9) {
    i128 scale = 1;
    for (int i = itf.tsresol; i < 9; ++i) scale *= 10;
    ns = static_cast<i128>(units) * scale;
  } else {
    i128 scale = 1;
    for (int i = 9; i < itf.tsresol && i < 40; ++i) scale *= 10;
    ns = static_cast<i128>(units) / scale;
  }
  return static_cast<int64_t>(ns + static_cast<i128>(itf.tsoffset_s) * 1'000'000'000);
}

core::result<void> capture_reader::read_section_header(bytes block, uint32_t total) {
  if (total < 28) {
    return corrupt(source_.offset(), fmt::format("section header block length {} is below 28", total));
  }
  uint16_t major = load_u16(block.data() + 12, big_endian_);
  if (major != 1) {
    return corrupt(source_.offset() + 12, fmt::format("unsupported pcapng version {}", major));
  }
  interfaces_.clear();  // interface ids are per section
  return {};
}

core::result<void> capture_reader::read_interface(bytes body) {
  if (body.size() < 8) {
    return corrupt(source_.offset(), "interface description block shorter than 8 bytes");
  }
  interface itf;
  itf.linktype = load_u16(body.data(), big_endian_);
  itf.snaplen = load_u32(body.data() + 4, big_endian_);
  size_t pos = 8;
  while (pos + 4 <= body.size()) {
    uint16_t code = load_u16(body.data() + pos, big_endian_);
    uint16_t len = load_u16(body.data() + pos + 2, big_endian_);
    if (code == 0) break;  // opt_endofopt
    size_t padded = (static_cast<size_t>(len) + 3) & ~size_t{3};
    if (pos + 4 + padded > body.size()) {
      return corrupt(source_.offset() + 8 + pos, fmt::format("interface option {} runs past its block", code));
    }
    const std::byte* v = body.data() + pos + 4;
    if (code == 9 && len >= 1) {  // if_tsresol
      uint8_t r = load_u8(v);
      itf.tsresol_power_of_two = (r & 0x80) != 0;
      itf.tsresol = r & 0x7f;
      if ((itf.tsresol_power_of_two && itf.tsresol > 63) || (!itf.tsresol_power_of_two && itf.tsresol > 19)) {
        return corrupt(source_.offset() + 8 + pos, fmt::format("if_tsresol {} is out of range", r));
      }
    } else if (code == 14 && len >= 8) {  // if_tsoffset, seconds
      uint64_t hi = load_u32(v, big_endian_);
      uint64_t lo = load_u32(v + 4, big_endian_);
      itf.tsoffset_s = static_cast<int64_t>(big_endian_ ? (hi << 32 | lo) : (lo << 32 | hi));
    }
    pos += 4 + padded;
  }
  interfaces_.push_back(itf);
  return {};
}

core::result<bool> capture_reader::next_pcapng(frame& out) {
  for (;;) {
    uint64_t at = source_.offset();
    auto head = source_.peek(12);
    if (!head) return head.error();
    if (head->empty()) return false;
    if (head->size() < 12) {
      return truncated(fmt::format("block header has {} of 12 bytes", head->size()));
    }
    uint32_t type_le = load_u32le(head->data());
    if (type_le == pcapng_shb) {
      uint32_t bom = load_u32le(head->data() + 8);
      if (bom == pcapng_bom) {
        big_endian_ = false;
      } else if (bom == __builtin_bswap32(pcapng_bom)) {
        big_endian_ = true;
      } else {
        return corrupt(at + 8, fmt::format("section header has a bad byte-order magic 0x{:08x}", bom));
      }
    } else if (interfaces_.empty() && at == 0) {
      return corrupt(at, "pcapng file does not start with a section header block");
    }
    uint32_t type = load_u32(head->data(), big_endian_);
    uint32_t total = load_u32(head->data() + 4, big_endian_);
    if (total < 12 || total % 4 != 0 || total > max_block_len) {
      return corrupt(at, fmt::format("block type 0x{:x} has a bad length {}", type, total));
    }
    auto block = source_.peek(total);
    if (!block) return block.error();
    if (block->size() < total) {
      return truncated(fmt::format("block of {} bytes, the input has {}", total, block->size()));
    }
    if (load_u32(block->data() + total - 4, big_endian_) != total) {
      return corrupt(at, fmt::format("block type 0x{:x}: trailing length {} differs from leading length {}", type,
                                     load_u32(block->data() + total - 4, big_endian_), total));
    }
    bytes body = block->subspan(8, total - 12);
    if (type == pcapng_shb) {
      if (auto r = read_section_header(*block, total); !r) return r.error();
      source_.consume(total);
      continue;
    }
    if (type == idb) {
      if (auto r = read_interface(body); !r) return r.error();
      source_.consume(total);
      continue;
    }
    if (type != epb && type != spb && type != opb) {
      ++stats_.skipped_blocks;
      source_.consume(total);
      continue;
    }
    uint32_t iface = 0;
    uint64_t units = 0;
    uint32_t caplen = 0;
    uint32_t origlen = 0;
    size_t data_at = 0;
    if (type == epb || type == opb) {
      if (body.size() < 20) return corrupt(at, "packet block shorter than its 20-byte header");
      iface = type == epb ? load_u32(body.data(), big_endian_) : load_u16(body.data(), big_endian_);
      units = static_cast<uint64_t>(load_u32(body.data() + 4, big_endian_)) << 32 | load_u32(body.data() + 8, big_endian_);
      caplen = load_u32(body.data() + 12, big_endian_);
      origlen = load_u32(body.data() + 16, big_endian_);
      data_at = 20;
    } else {
      if (body.size() < 4) return corrupt(at, "simple packet block shorter than 4 bytes");
      origlen = load_u32(body.data(), big_endian_);
      data_at = 4;
    }
    if (iface >= interfaces_.size()) {
      return corrupt(at, fmt::format("packet on interface {}, but the section describes {}", iface, interfaces_.size()));
    }
    const interface& itf = interfaces_[iface];
    if (type == spb) {
      // The captured length is what fits: the original length, capped by snaplen and the block.
      caplen = origlen;
      if (itf.snaplen != 0) caplen = std::min(caplen, itf.snaplen);
      caplen = std::min<uint32_t>(caplen, static_cast<uint32_t>(body.size() - data_at));
    }
    if (caplen > body.size() - data_at) {
      return corrupt(at, fmt::format("captured length {} exceeds its block ({} bytes of data)", caplen,
                                     body.size() - data_at));
    }
    out.offset = at;
    out.ts_ns = type == spb ? 0 : pcapng_time(itf, units);
    out.caplen = caplen;
    out.origlen = origlen;
    out.linktype = itf.linktype;
    out.interface_id = iface;
    out.data = body.subspan(data_at, caplen);
    source_.consume(total);
    return true;
  }
}

}  // namespace synscope::wire
