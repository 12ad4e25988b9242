// Damaged captures, at every kind of boundary: every shared capture cut short at every byte
// offset (small files) or on a fine stride, and with bytes overwritten at every offset of its
// first kilobytes (file header, block and record headers, lengths, link, IP and TCP headers).
// The analyzer must end every run with a result or a one-line error, never a crash or a hang;
// under ASan and UBSan (CI runs the unit tests so) a bad read or overflow fails the test too.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tcp/analyzer.h"

namespace synscope::tcp {
namespace {

// Under the sanitizers (CI's unit run) an analysis costs ten times as much: there every offset
// still gets damaged, with one of the three kinds in turn, and small files are cut at every
// third byte, so that the run stays under half a minute.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool sanitized = true;
#else
constexpr bool sanitized = false;
#endif

std::vector<std::string> small_captures() {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(std::string(SYNSCOPE_SHARED_DIR) + "/pcaps", ec)) {
    std::string p = e.path().string();
    bool capture = p.ends_with(".pcap") || p.ends_with(".pcapng");
    if (capture && e.file_size() <= 64 * 1024) out.push_back(p);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Analyzes `bytes` from a memfd (no disk); counts the outcome. Fails the test on an error that
// is not a one-line bad_data/usage error.
struct outcome_counts {
  uint64_t runs = 0;
  uint64_t analyzed = 0;
  uint64_t truncated = 0;
  uint64_t refused = 0;
};

void analyze_bytes(const std::string& bytes, outcome_counts& n, const std::string& what) {
  int fd = memfd_create("synscope-damaged", MFD_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  analyze_options o;
  o.inputs = {"/proc/self/fd/" + std::to_string(fd)};
  o.threads = 1;
  auto r = analyze(o, nullptr, {});
  close(fd);
  ++n.runs;
  if (r) {
    ++n.analyzed;
    if (!r->inputs.empty() && !r->inputs[0].truncation.empty()) ++n.truncated;
    return;
  }
  ++n.refused;
  EXPECT_TRUE(r.error().code == core::exit_code::bad_data || r.error().code == core::exit_code::usage)
      << what << ": " << r.error().message;
  EXPECT_EQ(r.error().message.find('\n'), std::string::npos) << what;
}

TEST(DamagedCaptures, CutAtEveryOffsetEndsInAResultOrAOneLineError) {
  auto files = small_captures();
  if (files.empty()) GTEST_SKIP() << "no shared captures";
  outcome_counts n;
  for (const auto& f : files) {
    std::string bytes = read_all(f);
    size_t stride = bytes.size() <= 8192 ? (sanitized ? 3 : 1) : 29;  // every offset of small files, a fine stride of larger ones
    for (size_t cut = 0; cut < bytes.size(); cut += stride) {
      analyze_bytes(bytes.substr(0, cut), n, f + " cut at " + std::to_string(cut));
    }
  }
  EXPECT_GT(n.truncated, 0u);
  EXPECT_GT(n.refused, 0u);
  RecordProperty("runs", static_cast<int>(n.runs));
  std::printf("%zu files, %llu cuts: %llu analyzed (%llu of them with a truncation warning), %llu refused\n", files.size(),
              static_cast<unsigned long long>(n.runs), static_cast<unsigned long long>(n.analyzed),
              static_cast<unsigned long long>(n.truncated), static_cast<unsigned long long>(n.refused));
}

TEST(DamagedCaptures, BytesOverwrittenAtEveryOffsetEndInAResultOrAOneLineError) {
  auto files = small_captures();
  if (files.empty()) GTEST_SKIP() << "no shared captures";
  outcome_counts n;
  // 0xff and 0x00 runs turn lengths huge or zero; a flipped byte turns magic numbers, link
  // types, version nibbles, header lengths, flags and options into neighbours of themselves.
  for (const auto& f : files) {
    std::string bytes = read_all(f);
    size_t limit = std::min<size_t>(bytes.size(), 1024);
    for (size_t at = 0; at < limit; ++at) {
      for (int kind = 0; kind < 3; ++kind) {
        if (sanitized && kind != static_cast<int>(at % 3)) continue;
        std::string damaged = bytes;
        if (kind == 0) damaged[at] = static_cast<char>(~damaged[at]);
        for (size_t i = at; kind > 0 && i < std::min(damaged.size(), at + 4); ++i) damaged[i] = kind == 1 ? '\xff' : '\0';
        analyze_bytes(damaged, n, f + " damaged at " + std::to_string(at));
      }
    }
  }
  EXPECT_GT(n.analyzed, 0u);
  EXPECT_GT(n.refused, 0u);
  std::printf("%zu files, %llu damaged copies: %llu analyzed, %llu refused\n", files.size(),
              static_cast<unsigned long long>(n.runs), static_cast<unsigned long long>(n.analyzed),
              static_cast<unsigned long long>(n.refused));
}

}  // namespace
}  // namespace synscope::tcp
