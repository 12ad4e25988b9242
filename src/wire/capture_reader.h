#pragma once
// Reading capture files: pcap (all four magics: micro- and nanosecond, either byte order) and
// pcapng (sections of either byte order, many interfaces each with its own link type and
// timestamp resolution; EPB, SPB and OPB packets; unknown blocks skipped).
//
//   auto reader = wire::capture_reader::open("trace.pcapng");
//   wire::frame f;
//   while (true) {
//     auto more = reader->next(f);
//     if (!more) { /* corrupt: more.error().message names file, offset, packet */ }
//     if (!*more) break;            // end of input (reader->stats().truncated: cut short)
//     use(f.data, f.linktype, f.ts_ns);
//   }
//
// Frames are views into the read buffer (or the caller's memory): no copy, no allocation per
// packet. A view stays valid until the next call to next(), which may refill the buffer.
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "wire/byte_source.h"

namespace synscope::wire {

struct frame {
  uint64_t number = 0;     ///< 1-based, as tshark and Wireshark count
  uint64_t offset = 0;     ///< byte offset of the record (or block) in the input
  int64_t ts_ns = 0;       ///< Unix time in nanoseconds
  uint32_t caplen = 0;     ///< bytes present in `data`
  uint32_t origlen = 0;    ///< bytes on the wire
  uint16_t linktype = 0;   ///< LINKTYPE_* of the frame's interface
  uint32_t interface_id = 0;
  bytes data;
};

enum class capture_format { pcap, pcapng };

struct reader_stats {
  uint64_t frames = 0;
  uint64_t skipped_blocks = 0;       ///< pcapng blocks other than packets and interfaces
  uint64_t odd_timestamps = 0;       ///< pcap fractions >= 1 s, carried into the seconds as tshark does
  bool truncated = false;            ///< the input ended inside a record
  std::string truncation;            ///< what was cut, for the warning
};

class capture_reader {
 public:
  /// Opens `path` ("-" for stdin) and reads the file header. Not a capture, an unknown
  /// version or a corrupt header is an error naming the file and the byte offset.
  static core::result<capture_reader> open(const std::string& path);
  /// The same over bytes in memory that the caller keeps alive; `name` is used in messages.
  static core::result<capture_reader> open_memory(bytes data, std::string name);

  /// The next frame: true, or false at the end of input. A record cut short by the end of the
  /// input ends the input (stats().truncated) rather than failing; a corrupt record is an
  /// error naming file, byte offset and packet number.
  core::result<bool> next(frame& out);

  [[nodiscard]] capture_format format() const noexcept { return format_; }
  [[nodiscard]] const reader_stats& stats() const noexcept { return stats_; }
  [[nodiscard]] const std::string& name() const noexcept { return source_.name(); }
  [[nodiscard]] uint64_t offset() const noexcept { return source_.offset(); }
  [[nodiscard]] uint64_t size() const noexcept { return source_.size(); }
  /// pcap: the file's link type. pcapng: the first interface's (0 before any).
  [[nodiscard]] uint16_t first_linktype() const noexcept;

 private:
  struct interface {
    uint16_t linktype = 0;
    uint32_t snaplen = 0;
    bool tsresol_power_of_two = false;  // if_tsresol's high bit
    uint8_t tsresol = 6;                // 10^-6 by default
    int64_t tsoffset_s = 0;
  };

  explicit capture_reader(byte_source source) : source_(std::move(source)) {}
  static core::result<capture_reader> start(byte_source source);
  core::result<void> read_pcap_header(bytes head);
  core::result<bool> next_pcap(frame& out);
  core::result<bool> next_pcapng(frame& out);
  core::result<void> read_section_header(bytes block, uint32_t total);
  core::result<void> read_interface(bytes body);
  core::error corrupt(uint64_t offset, const std::string& what) const;
  bool truncated(const std::string& what);
  int64_t pcapng_time(const interface& itf, uint64_t units) const;

  byte_source source_;
  capture_format format_ = capture_format::pcap;
  reader_stats stats_;
  // pcap
  bool big_endian_ = false;
  bool nanoseconds_ = false;
  uint32_t snaplen_ = 0;
  uint16_t linktype_ = 0;
  // pcapng (big_endian_ is the current section's byte order)
  std::vector<interface> interfaces_;
};

}  // namespace synscope::wire
