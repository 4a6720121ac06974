#include "core/engine/stop_matcher.h"

#include "gtest/gtest.h"

namespace ember {
namespace {

TEST(StopMatcherTest, MatchesAcrossPiecesAndHidesTheStopString) {
  StopMatcher m({"\n\nUser:"});
  std::string out;
  for (const char* piece : {"Hello", " there.", "\n", "\nUs", "er:", " more"}) {
    auto r = m.Push(piece);
    out += r.text;
    if (r.stopped) {
      EXPECT_EQ(r.matched, "\n\nUser:");
      break;
    }
  }
  EXPECT_EQ(out, "Hello there.");
}

TEST(StopMatcherTest, ReleasesHeldTextWhenThePrefixBreaks) {
  StopMatcher m({"abc"});
  auto r1 = m.Push("xxab");
  EXPECT_EQ(r1.text, "xx");
  auto r2 = m.Push("d");
  EXPECT_EQ(r2.text, "abd");
  EXPECT_FALSE(r2.stopped);
  EXPECT_EQ(m.Flush(), "");
}

TEST(StopMatcherTest, EarliestMatchWinsAndFlushReturnsPending) {
  StopMatcher m({"world", "lo w"});
  auto r = m.Push("hello world");
  EXPECT_TRUE(r.stopped);
  EXPECT_EQ(r.text, "hel");
  StopMatcher n({"zz"});
  EXPECT_EQ(n.Push("abz").text, "ab");
  EXPECT_EQ(n.Flush(), "z");
}

TEST(StopMatcherTest, MultiByteStopStrings) {
  StopMatcher m({"終わり"});
  std::string out;
  out += m.Push("これで").text;
  out += m.Push("終").text;
  auto r = m.Push("わり!");
  out += r.text;
  EXPECT_TRUE(r.stopped);
  EXPECT_EQ(out, "これで");
}

TEST(StopMatcherTest, NoStopsPassesEverythingThrough) {
  StopMatcher m({});
  EXPECT_EQ(m.Push("abc").text, "abc");
  EXPECT_EQ(m.Flush(), "");
}

}  // namespace
}  // namespace ember
