// Output handed to a writing thread in blocks: every byte arrives, in order, and a failed write
// is reported, not hung on.
#include "core/background_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace synscope::core {
namespace {

// Numbered lines of varying length, written through small blocks (so the blocks run out and
// room() waits for the writer) into a pipe read by another thread.
TEST(BackgroundWriter, EveryByteInOrderThroughFewSmallBlocks) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  std::string got;
  std::thread reader([&] {
    char buf[65536];
    for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) got.append(buf, static_cast<size_t>(n));
  });
  std::string want;
  {
    background_writer out(fds[1], 4096, 2);
    for (int i = 0; i < 50'000; ++i) {
      std::string line = std::to_string(i) + std::string(static_cast<size_t>(i % 97), 'x') + "\n";
      want += line;
      char* at = out.room(line.size());
      std::memcpy(at, line.data(), line.size());
      out.commit(at + line.size());
    }
    EXPECT_EQ(out.finish(), 0);
  }
  close(fds[1]);
  reader.join();
  close(fds[0]);
  EXPECT_EQ(got.size(), want.size());
  EXPECT_TRUE(got == want);
}

// /dev/full fails every write with ENOSPC: the writer keeps taking blocks (nothing waits
// forever) and finish() names the error.
TEST(BackgroundWriter, AFailedWriteIsReportedAndNothingHangs) {
  int fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  background_writer out(fd, 4096, 2);
  for (int i = 0; i < 1000; ++i) {
    char* at = out.room(100);
    std::memset(at, 'x', 100);
    out.commit(at + 100);
  }
  EXPECT_EQ(out.finish(), ENOSPC);
  close(fd);
}

}  // namespace
}  // namespace synscope::core
