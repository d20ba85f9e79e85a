// The in-memory list of who gets an account's presence: a list read before
// a write must never outlive the write.
#include "modules/roster/subscriber_cache.h"

#include <gtest/gtest.h>

namespace tern::modules::roster {
namespace {

std::shared_ptr<const Subscribers> list_of(const char* jid) {
  return std::make_shared<Subscribers>(Subscribers{*xmpp::Jid::parse(jid)});
}

TEST(SubscriberCache, KeepsWhatWasReadWithNoWriteInBetween) {
  SubscriberCache cache;
  EXPECT_EQ(cache.find("romeo@example.net"), nullptr);
  const auto generation = cache.generation();
  cache.keep("romeo@example.net", list_of("juliet@example.com"), generation);
  auto kept = cache.find("romeo@example.net");
  ASSERT_NE(kept, nullptr);
  ASSERT_EQ(kept->size(), 1u);
  EXPECT_EQ((*kept)[0].to_string(), "juliet@example.com");
  EXPECT_EQ(cache.find("juliet@example.com"), nullptr);
}

TEST(SubscriberCache, AWriteDropsTheOwnersList) {
  SubscriberCache cache;
  cache.keep("romeo@example.net", list_of("juliet@example.com"), cache.generation());
  cache.keep("benvolio@example.net", list_of("juliet@example.com"), cache.generation());
  cache.invalidate("romeo@example.net");
  EXPECT_EQ(cache.find("romeo@example.net"), nullptr);
  EXPECT_NE(cache.find("benvolio@example.net"), nullptr);
}

// Read (old rows), write + invalidate, then the read's keep: the old rows
// must not be kept, and nothing older stays either.
TEST(SubscriberCache, AReadThatRacedAWriteIsNotKept) {
  SubscriberCache cache;
  cache.keep("romeo@example.net", list_of("juliet@example.com"), cache.generation());
  const auto before_read = cache.generation();
  cache.invalidate("romeo@example.net");
  // Another reader got in after the write and kept the new rows …
  cache.keep("romeo@example.net", list_of("nurse@example.com"), cache.generation());
  // … then the slow reader, which read before the write, tries to keep.
  cache.keep("romeo@example.net", list_of("juliet@example.com"), before_read);
  EXPECT_EQ(cache.find("romeo@example.net"), nullptr);
}

TEST(SubscriberCache, GoingOfflineReleasesWithoutFailingOtherReads) {
  SubscriberCache cache;
  cache.keep("romeo@example.net", list_of("juliet@example.com"), cache.generation());
  const auto before_read = cache.generation();
  cache.release("romeo@example.net");
  EXPECT_EQ(cache.find("romeo@example.net"), nullptr);
  EXPECT_EQ(cache.size(), 0u);
  // Nothing was written: a read in flight is still right.
  cache.keep("mercutio@example.net", list_of("romeo@example.net"), before_read);
  EXPECT_NE(cache.find("mercutio@example.net"), nullptr);
}

}  // namespace
}  // namespace tern::modules::roster
