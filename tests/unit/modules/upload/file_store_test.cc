#include "modules/upload/file_store.h"

#include <gtest/gtest.h>

#include <fstream>

namespace tern::modules::upload {
namespace {

namespace fs = std::filesystem;

class FileStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root = fs::temp_directory_path() /
           ("tern_upload_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root);
  }
  void TearDown() override { fs::remove_all(root); }

  static void write(const fs::path& p, std::string_view bytes) {
    std::ofstream out(p, std::ios::binary);
    out << bytes;
  }
  std::string put(FileStore& store, const std::string& owner, std::string_view bytes,
                  std::int64_t created = 1000) {
    std::string id = make_slot_id();
    EXPECT_TRUE(store.prepare(id));
    write(store.temp_file(id), bytes);
    std::error_code ec;
    EXPECT_TRUE(store.commit(id, {owner, "f.txt", bytes.size(), "text/plain", created}, ec));
    return id;
  }

  fs::path root;
};

TEST_F(FileStoreTest, CommitThenReload) {
  FileStore store(root);
  EXPECT_EQ(store.load(), 0u);
  auto a = put(store, "alice@x", "hello");
  put(store, "alice@x", "world!");
  put(store, "bob@x", "b");
  EXPECT_EQ(store.used_by("alice@x"), 11u);
  EXPECT_TRUE(fs::exists(store.data_file(a)));
  EXPECT_FALSE(fs::exists(store.temp_file(a)));

  FileStore again(root);
  EXPECT_EQ(again.load(), 3u);
  EXPECT_EQ(again.used_by("alice@x"), 11u);
  EXPECT_EQ(again.used_by("bob@x"), 1u);
  ASSERT_TRUE(again.find(a));
  EXPECT_EQ(again.find(a)->filename, "f.txt");
}

// What a kill -9 during a PUT leaves: a directory with only file.part.
TEST_F(FileStoreTest, LoadRemovesUnfinishedUploads) {
  FileStore store(root);
  store.load();
  std::string id = make_slot_id();
  ASSERT_TRUE(store.prepare(id));
  write(store.temp_file(id), "half");
  // And an upload whose file lost bytes: not served with a wrong size.
  auto broken = put(store, "alice@x", "hello");
  write(store.data_file(broken), "hel");
  fs::create_directories(root / "not-an-upload");

  FileStore again(root);
  EXPECT_EQ(again.load(), 0u);
  EXPECT_FALSE(fs::exists(root / id));
  EXPECT_FALSE(fs::exists(root / broken));
  EXPECT_TRUE(fs::exists(root / "not-an-upload"));  // not ours: left alone
  EXPECT_EQ(again.used_by("alice@x"), 0u);
}

TEST_F(FileStoreTest, CommitWithoutTheFileFailsAndLeavesNothing) {
  FileStore store(root);
  store.load();
  std::string id = make_slot_id();
  ASSERT_TRUE(store.prepare(id));
  std::error_code ec;
  EXPECT_FALSE(store.commit(id, {"alice@x", "f", 3, "t/x", 1}, ec));
  EXPECT_TRUE(ec);
  EXPECT_FALSE(fs::exists(root / id));
  EXPECT_FALSE(store.contains(id));
  EXPECT_EQ(store.used_by("alice@x"), 0u);
}

TEST_F(FileStoreTest, RemoveIfUpdatesQuotaAndDisk) {
  FileStore store(root);
  store.load();
  auto old = put(store, "alice@x", "old", 100);
  auto fresh = put(store, "alice@x", "fresh", 200);
  put(store, "bob@x", "bob", 50);
  EXPECT_EQ(store.oldest_of("alice@x"), 100);
  EXPECT_EQ(store.remove_if([](const FileMeta& m) { return m.created < 150; }), 2u);
  EXPECT_FALSE(fs::exists(root / old));
  EXPECT_TRUE(fs::exists(root / fresh));
  EXPECT_EQ(store.used_by("alice@x"), 5u);
  EXPECT_EQ(store.used_by("bob@x"), 0u);
  EXPECT_EQ(store.owners(), std::vector<std::string>{"alice@x"});
}

TEST_F(FileStoreTest, DiscardKeepsStoredUploads) {
  FileStore store(root);
  store.load();
  auto id = put(store, "alice@x", "kept");
  store.discard(id);
  EXPECT_TRUE(fs::exists(store.data_file(id)));
}

}  // namespace
}  // namespace tern::modules::upload
