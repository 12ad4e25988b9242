// Capture-file readers against hand-built files: one named test per malformed case.
#include "wire/capture_reader.h"

#include <linux/perf_event.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "core/unique_fd.h"

namespace synscope::wire {
namespace {

using byte_vec = std::vector<uint8_t>;

void put32(byte_vec& v, uint32_t x, bool be = false) {
  for (int i = 0; i < 4; ++i) v.push_back(static_cast<uint8_t>(be ? x >> (24 - 8 * i) : x >> (8 * i)));
}
void put16(byte_vec& v, uint16_t x, bool be = false) {
  for (int i = 0; i < 2; ++i) v.push_back(static_cast<uint8_t>(be ? x >> (8 - 8 * i) : x >> (8 * i)));
}

byte_vec pcap_header(uint32_t magic, bool be, uint32_t snaplen = 65535, uint32_t linktype = 1) {
  byte_vec v;
  put32(v, magic, be);
  put16(v, 2, be);
  put16(v, 4, be);
  put32(v, 0, be);
  put32(v, 0, be);
  put32(v, snaplen, be);
  put32(v, linktype, be);
  return v;
}

void pcap_record(byte_vec& v, uint32_t sec, uint32_t frac, const byte_vec& data, bool be = false,
                 std::optional<uint32_t> caplen = {}) {
  put32(v, sec, be);
  put32(v, frac, be);
  put32(v, caplen.value_or(static_cast<uint32_t>(data.size())), be);
  put32(v, static_cast<uint32_t>(data.size()) + 10, be);
  v.insert(v.end(), data.begin(), data.end());
}

class temp_file {
 public:
  explicit temp_file(const byte_vec& content) {
    path_ = (std::filesystem::temp_directory_path() / ("synscope-wire-" + std::to_string(getpid()) + "-" +
                                                        std::to_string(counter_++)))
                .string();
    std::ofstream out(path_, std::ios::binary);
    out.write(reinterpret_cast<const char*>(content.data()), static_cast<std::streamsize>(content.size()));
  }
  ~temp_file() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  std::string path_;
};

struct read_all_result {
  std::vector<frame> frames;
  std::vector<byte_vec> data;
  std::optional<core::error> error;
  reader_stats stats;
};

read_all_result read_all(const std::string& path) {
  read_all_result r;
  auto reader = capture_reader::open(path);
  if (!reader) {
    r.error = reader.error();
    return r;
  }
  frame f;
  for (;;) {
    auto more = reader->next(f);
    if (!more) {
      r.error = more.error();
      break;
    }
    if (!*more) break;
    r.frames.push_back(f);
    r.data.emplace_back(reinterpret_cast<const uint8_t*>(f.data.data()),
                        reinterpret_cast<const uint8_t*>(f.data.data()) + f.data.size());
  }
  r.stats = reader->stats();
  return r;
}

TEST(Pcap, AllFourMagics) {
  struct c {
    uint32_t magic;
    bool be;
    int64_t frac_to_ns;
  };
  for (auto [magic, be, scale] : {c{0xa1b2c3d4, false, 1000}, c{0xa1b2c3d4, true, 1000}, c{0xa1b23c4d, false, 1},
                                  c{0xa1b23c4d, true, 1}}) {
    byte_vec v = pcap_header(magic, be);
    pcap_record(v, 1700000000, 123456, {1, 2, 3, 4}, be);
    pcap_record(v, 1700000001, 7, {9}, be);
    temp_file f(v);
    auto r = read_all(f.path());
    ASSERT_FALSE(r.error) << r.error->message;
    ASSERT_EQ(r.frames.size(), 2u);
    EXPECT_EQ(r.frames[0].ts_ns, 1700000000LL * 1'000'000'000 + 123456 * scale);
    EXPECT_EQ(r.frames[0].caplen, 4u);
    EXPECT_EQ(r.frames[0].origlen, 14u);
    EXPECT_EQ(r.frames[0].linktype, 1);
    EXPECT_EQ(r.frames[0].number, 1u);
    EXPECT_EQ(r.frames[0].offset, 24u);
    EXPECT_EQ(r.data[0], (byte_vec{1, 2, 3, 4}));
    EXPECT_EQ(r.frames[1].number, 2u);
    EXPECT_EQ(r.frames[1].offset, 24u + 16 + 4);
  }
}

TEST(Pcap, NotACaptureFile) {
  temp_file f(byte_vec{'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd', '\n'});
  auto r = read_all(f.path());
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->code, core::exit_code::bad_data);
  EXPECT_NE(r.error->message.find("not a pcap or pcapng file"), std::string::npos) << r.error->message;
  EXPECT_NE(r.error->message.find(f.path()), std::string::npos);
}

TEST(Pcap, EmptyFileIsNotACapture) {
  temp_file f(byte_vec{});
  auto r = read_all(f.path());
  ASSERT_TRUE(r.error);
  EXPECT_NE(r.error->message.find("only 0 bytes"), std::string::npos) << r.error->message;
}

TEST(Pcap, UnsupportedVersion) {
  byte_vec v = pcap_header(0xa1b2c3d4, false);
  v[4] = 3;
  temp_file f(v);
  auto r = read_all(f.path());
  ASSERT_TRUE(r.error);
  EXPECT_NE(r.error->message.find("unsupported pcap version 3.4"), std::string::npos) << r.error->message;
}

TEST(Pcap, RecordLongerThanSnaplenNamesOffsetAndPacket) {
  byte_vec v = pcap_header(0xa1b2c3d4, false, 96);
  pcap_record(v, 1, 0, {1, 2});
  pcap_record(v, 2, 0, {1, 2}, false, 300000);  // claims 300000 captured bytes
  temp_file f(v);
  auto r = read_all(f.path());
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.frames.size(), 1u);
  EXPECT_NE(r.error->message.find("byte offset 42, packet 2: record length 300000 exceeds the snapshot length"),
            std::string::npos)
      << r.error->message;
}

TEST(Pcap, TruncatedRecordEndsInputWithWarning) {
  byte_vec v = pcap_header(0xa1b2c3d4, false);
  pcap_record(v, 1, 0, {1, 2, 3});
  pcap_record(v, 2, 0, {1, 2, 3, 4, 5, 6, 7, 8});
  v.resize(v.size() - 3);
  temp_file f(v);
  auto r = read_all(f.path());
  ASSERT_FALSE(r.error);
  EXPECT_EQ(r.frames.size(), 1u);
  EXPECT_TRUE(r.stats.truncated);
  EXPECT_NE(r.stats.truncation.find("packet 2"), std::string::npos) << r.stats.truncation;
}

TEST(Pcap, TruncatedRecordHeader) {
  byte_vec v = pcap_header(0xa1b2c3d4, false);
  pcap_record(v, 1, 0, {1});
  v.insert(v.end(), {0, 0, 0, 0, 0});
  temp_file f(v);
  auto r = read_all(f.path());
  ASSERT_FALSE(r.error);
  EXPECT_EQ(r.frames.size(), 1u);
  EXPECT_TRUE(r.stats.truncated);
  EXPECT_NE(r.stats.truncation.find("5 of 16 bytes"), std::string::npos) << r.stats.truncation;
}

TEST(Pcap, FractionOverOneSecondIsCarriedLikeTshark) {
  byte_vec v = pcap_header(0xa1b23c4d, false);
  pcap_record(v, 10, 1'500'000'000, {1});
  temp_file f(v);
  auto r = read_all(f.path());
  ASSERT_FALSE(r.error);
  EXPECT_EQ(r.frames[0].ts_ns, 11'500'000'000);
  EXPECT_EQ(r.stats.odd_timestamps, 1u);
}

// ---- pcapng ----

void block(byte_vec& v, uint32_t type, const byte_vec& body, bool be = false) {
  uint32_t total = static_cast<uint32_t>(12 + ((body.size() + 3) & ~size_t{3}));
  put32(v, type, be);
  put32(v, total, be);
  v.insert(v.end(), body.begin(), body.end());
  v.resize(v.size() + (((body.size() + 3) & ~size_t{3}) - body.size()));
  put32(v, total, be);
}

byte_vec shb(bool be) {
  byte_vec b;
  put32(b, 0x1a2b3c4d, be);
  put16(b, 1, be);
  put16(b, 0, be);
  put32(b, 0xffffffff, be);
  put32(b, 0xffffffff, be);
  return b;
}

byte_vec idb(uint16_t linktype, std::optional<uint8_t> tsresol = {}, bool be = false, uint32_t snaplen = 0) {
  byte_vec b;
  put16(b, linktype, be);
  put16(b, 0, be);
  put32(b, snaplen, be);
  if (tsresol) {
    put16(b, 9, be);
    put16(b, 1, be);
    b.push_back(*tsresol);
    b.insert(b.end(), {0, 0, 0});
    put32(b, 0, be);  // opt_endofopt
  }
  return b;
}

byte_vec epb(uint32_t iface, uint64_t units, const byte_vec& data, bool be = false) {
  byte_vec b;
  put32(b, iface, be);
  put32(b, static_cast<uint32_t>(units >> 32), be);
  put32(b, static_cast<uint32_t>(units), be);
  put32(b, static_cast<uint32_t>(data.size()), be);
  put32(b, static_cast<uint32_t>(data.size()), be);
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

TEST(Pcapng, InterfacesWithTheirOwnLinktypeAndResolution) {
  for (bool be : {false, true}) {
    byte_vec v;
    block(v, 0x0a0d0d0a, shb(be), be);
    block(v, 1, idb(1, {}, be), be);         // Ethernet, microseconds
    block(v, 1, idb(101, 9, be), be);        // raw IP, nanoseconds
    block(v, 1, idb(113, 0x80 | 20, be), be);  // SLL, 2^-20 s
    block(v, 0x0bad, byte_vec{1, 2, 3, 4}, be);  // unknown: skipped
    block(v, 6, epb(0, 1'700'000'000'000'001ULL, {1, 2, 3}, be), be);
    block(v, 6, epb(1, 1'700'000'000'000'000'007ULL, {4}, be), be);
    block(v, 6, epb(2, uint64_t{3} << 20, {5, 6}, be), be);
    temp_file f(v);
    auto r = read_all(f.path());
    ASSERT_FALSE(r.error) << r.error->message;
    ASSERT_EQ(r.frames.size(), 3u);
    EXPECT_EQ(r.frames[0].ts_ns, 1'700'000'000'000'001'000LL);
    EXPECT_EQ(r.frames[0].linktype, 1);
    EXPECT_EQ(r.data[0], (byte_vec{1, 2, 3}));
    EXPECT_EQ(r.frames[1].ts_ns, 1'700'000'000'000'000'007LL);
    EXPECT_EQ(r.frames[1].linktype, 101);
    EXPECT_EQ(r.frames[1].interface_id, 1u);
    EXPECT_EQ(r.frames[2].ts_ns, 3'000'000'000LL);
    EXPECT_EQ(r.frames[2].linktype, 113);
    EXPECT_EQ(r.stats.skipped_blocks, 1u);
  }
}

TEST(Pcapng, SimplePacketBlockTakesCaplenFromSnaplen) {
  byte_vec v;
  block(v, 0x0a0d0d0a, shb(false));
  block(v, 1, idb(1, {}, false, 4));
  byte_vec spb;
  put32(spb, 10);
  spb.insert(spb.end(), {1, 2, 3, 4, 5, 6, 7, 8});
  block(v, 3, spb);
  temp_file f(v);
  auto r = read_all(f.path());
  ASSERT_FALSE(r.error) << r.error->message;
  ASSERT_EQ(r.frames.size(), 1u);
  EXPECT_EQ(r.frames[0].caplen, 4u);
  EXPECT_EQ(r.frames[0].origlen, 10u);
}

TEST(Pcapng, PacketOnUndescribedInterface) {
  byte_vec v;
  block(v, 0x0a0d0d0a, shb(false));
  block(v, 1, idb(1));
  block(v, 6, epb(3, 0, {1}));
  temp_file f(v);
  auto r = read_all(f.path());
  ASSERT_TRUE(r.error);
  EXPECT_NE(r.error->message.find("packet on interface 3, but the section describes 1"), std::string::npos)
      << r.error->message;
}

TEST(Pcapng, TrailingLengthMismatch) {
  byte_vec v;
  block(v, 0x0a0d0d0a, shb(false));
  block(v, 1, idb(1));
  v[v.size() - 4] ^= 0x40;
  temp_file f(v);
  auto r = read_all(f.path());
  ASSERT_TRUE(r.error);
  EXPECT_NE(r.error->message.find("byte offset 28"), std::string::npos) << r.error->message;
  EXPECT_NE(r.error->message.find("trailing length"), std::string::npos) << r.error->message;
}

TEST(Pcapng, BadBlockLength) {
  byte_vec v;
  block(v, 0x0a0d0d0a, shb(false));
  put32(v, 6);
  put32(v, 13);  // not a multiple of 4
  v.resize(v.size() + 16);
  temp_file f(v);
  auto r = read_all(f.path());
  ASSERT_TRUE(r.error);
  EXPECT_NE(r.error->message.find("bad length 13"), std::string::npos) << r.error->message;
}

TEST(Pcapng, CapturedLengthBeyondBlock) {
  byte_vec v;
  block(v, 0x0a0d0d0a, shb(false));
  block(v, 1, idb(1));
  byte_vec b = epb(0, 0, {1, 2, 3, 4});
  b[12] = 200;  // caplen 200 in a block with 4 data bytes
  block(v, 6, b);
  temp_file f(v);
  auto r = read_all(f.path());
  ASSERT_TRUE(r.error);
  EXPECT_NE(r.error->message.find("captured length 200 exceeds its block"), std::string::npos) << r.error->message;
}

TEST(Pcapng, BadByteOrderMagic) {
  byte_vec v;
  byte_vec body = shb(false);
  body[0] = 0x99;
  block(v, 0x0a0d0d0a, body);
  temp_file f(v);
  auto r = read_all(f.path());
  ASSERT_TRUE(r.error);
  EXPECT_NE(r.error->message.find("byte-order magic"), std::string::npos) << r.error->message;
}

TEST(Pcapng, TruncatedBlockEndsInputWithWarning) {
  byte_vec v;
  block(v, 0x0a0d0d0a, shb(false));
  block(v, 1, idb(1));
  block(v, 6, epb(0, 0, {1, 2, 3, 4}));
  block(v, 6, epb(0, 0, {1, 2, 3, 4}));
  v.resize(v.size() - 6);
  temp_file f(v);
  auto r = read_all(f.path());
  ASSERT_FALSE(r.error);
  EXPECT_EQ(r.frames.size(), 1u);
  EXPECT_TRUE(r.stats.truncated);
}

TEST(ByteSource, StreamsFromAPipeInBlocks) {
  // A FIFO is not a regular file: the reader streams it instead of mapping it.
  byte_vec v = pcap_header(0xa1b2c3d4, false);
  for (uint32_t i = 0; i < 20000; ++i) pcap_record(v, i, 0, byte_vec(100, static_cast<uint8_t>(i)));
  std::string fifo = (std::filesystem::temp_directory_path() / ("synscope-fifo-" + std::to_string(getpid()))).string();
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  std::thread writer([&] {
    std::ofstream out(fifo, std::ios::binary);
    out.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size()));
  });
  auto r = read_all(fifo);
  writer.join();
  std::remove(fifo.c_str());
  ASSERT_FALSE(r.error) << r.error->message;
  ASSERT_EQ(r.frames.size(), 20000u);
  EXPECT_EQ(r.frames[19999].ts_ns, 19999LL * 1'000'000'000);
  EXPECT_EQ(r.data[12345], byte_vec(100, static_cast<uint8_t>(12345)));
}

// The resident pages of this process, from /proc/self/statm.
long resident_pages() {
  std::ifstream in("/proc/self/statm");
  long size = 0;
  long resident = 0;
  in >> size >> resident;
  return resident;
}

// A file is read through a buffer of its own, not mapped: reading 40 MiB leaves the process
// about as large as before, and every record arrives whole, in order, across buffer refills
// (records of 1,446 bytes do not divide the 256 KiB buffer).
TEST(ByteSource, AFileIsReadThroughASmallBufferRecordByRecord) {
  byte_vec v = pcap_header(0xa1b2c3d4, false);
  const uint32_t records = 29'500;
  for (uint32_t i = 0; i < records; ++i) pcap_record(v, i, 0, byte_vec(1430, static_cast<uint8_t>(i)));
  std::string path = (std::filesystem::temp_directory_path() / ("synscope-read-" + std::to_string(getpid()))).string();
  {
    FILE* out = std::fopen(path.c_str(), "wb");
    ASSERT_NE(out, nullptr);
    std::fwrite(v.data(), 1, v.size(), out);
    std::fclose(out);
  }
  ASSERT_GT(v.size(), size_t{40} << 20);
  byte_vec().swap(v);
  auto r = capture_reader::open(path);
  std::remove(path.c_str());  // the open descriptor keeps it: nothing is left behind
  ASSERT_TRUE(r.ok()) << r.error().message;
  const long page = sysconf(_SC_PAGESIZE);
  const long start_resident = resident_pages();
  long peak_resident = start_resident;
  frame f;
  uint32_t n = 0;
  for (;;) {
    auto more = r->next(f);
    ASSERT_TRUE(more.ok());
    if (!*more) break;
    ASSERT_EQ(f.caplen, 1430u);
    ASSERT_EQ(f.data.front(), static_cast<std::byte>(n & 0xff)) << "record " << n;
    ASSERT_EQ(f.data.back(), static_cast<std::byte>(n & 0xff)) << "record " << n;
    if (++n % 512 == 0) peak_resident = std::max(peak_resident, resident_pages());
  }
  EXPECT_EQ(n, records);
  EXPECT_EQ(r->offset(), r->size());
  EXPECT_LT((peak_resident - start_resident) * page, 4L << 20) << "resident bytes gained while reading 40 MiB";
}

TEST(ByteSource, MissingFileIsUsageError) {
  auto r = capture_reader::open("/nonexistent/trace.pcap");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, core::exit_code::usage);
  EXPECT_NE(r.error().message.find("ENOENT"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace synscope::wire
