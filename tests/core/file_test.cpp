// Reading whole files, and writing them so that nothing half-written is ever seen.
#include "core/file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

namespace synscope::core {
namespace {

class FileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/synscope-file-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(FileTest, WhatIsWrittenIsReadBackWhole) {
  std::string path = dir_ + "/out";
  std::string big(100'000, '\0');  // several read() chunks, NUL bytes included
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7);
  ASSERT_TRUE(write_file_atomically(path, big).ok());
  auto back = read_file(path);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, big);
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);

  ASSERT_TRUE(write_file_atomically(path, "").ok());  // replaced, not appended to
  EXPECT_EQ(*read_file(path), "");
  // Nothing but the file itself is left in the folder: no temporary.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_), {}), 1);
}

TEST_F(FileTest, AFailedWriteLeavesTheOldFileAndNoTemporary) {
  std::string path = dir_ + "/keep";
  ASSERT_TRUE(write_file_atomically(path, "old").ok());
  // A folder where the file should go: the rename fails after the temporary was written.
  std::string blocked = dir_ + "/blocked";
  std::filesystem::create_directories(blocked + "/inside");
  auto r = write_file_atomically(blocked, "new");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, exit_code::environment);
  EXPECT_NE(r.error().message.find(blocked + ": rename: "), std::string::npos) << r.error().message;
  EXPECT_EQ(*read_file(path), "old");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_), {}), 2);  // keep, blocked

  auto missing_dir = write_file_atomically(dir_ + "/no/such/file", "x");
  ASSERT_FALSE(missing_dir.ok());
  EXPECT_NE(missing_dir.error().message.find("mkstemp"), std::string::npos);
}

TEST_F(FileTest, ReadErrorsNameThePathAndTheCall) {
  auto missing = read_file(dir_ + "/none");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, exit_code::environment);
  EXPECT_EQ(missing.error().message, dir_ + "/none: open: No such file or directory (ENOENT)");
  auto folder = read_file(dir_);
  ASSERT_FALSE(folder.ok());
  EXPECT_EQ(folder.error().message, dir_ + ": read: Is a directory (EISDIR)");
}

}  // namespace
}  // namespace synscope::core
