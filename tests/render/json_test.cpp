#include "render/json.h"

#include <array>
#include <cmath>
#include <span>
#include <string_view>
#include <limits>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace synscope::render {
namespace {

TEST(Json, FieldsInOrderAndParsable) {
  json_object nested;
  nested.field("x", 1);
  std::string s = json_object()
                      .field("type", "attempt")
                      .field("n", uint64_t{18446744073709551615u})
                      .field("neg", int64_t{-5})
                      .field("ok", true)
                      .field("rtt", 52.25)
                      .field("list", std::vector<std::string>{"a", "b"})
                      .field("nested", nested)
                      .null_field("none")
                      .str();
  EXPECT_EQ(s.find("{\"type\":\"attempt\",\"n\":"), 0u);
  auto j = nlohmann::json::parse(s);
  EXPECT_EQ(j["type"], "attempt");
  EXPECT_EQ(j["n"].get<uint64_t>(), 18446744073709551615u);
  EXPECT_EQ(j["neg"], -5);
  EXPECT_EQ(j["ok"], true);
  EXPECT_DOUBLE_EQ(j["rtt"].get<double>(), 52.25);
  EXPECT_EQ(j["list"][1], "b");
  EXPECT_EQ(j["nested"]["x"], 1);
  EXPECT_TRUE(j["none"].is_null());
}

TEST(Json, ArraysOfObjectsStringsAndNumbers) {
  EXPECT_EQ(json_array().str(), "[]");
  EXPECT_TRUE(json_array().empty());
  json_array objects;
  objects.add(json_object().field("a", 1)).add(json_object().field("a", 2));
  EXPECT_FALSE(objects.empty());
  json_array mixed;
  mixed.add("x\"y").add(uint64_t{7}).add(-3);
  std::string s = json_object().field("objects", objects).field("mixed", mixed).field("none", json_array()).str();
  EXPECT_EQ(s, R"({"objects":[{"a":1},{"a":2}],"mixed":["x\"y",7,-3],"none":[]})");
  auto j = nlohmann::json::parse(s);
  EXPECT_EQ(j["objects"][1]["a"], 2);
  EXPECT_EQ(j["mixed"][0], "x\"y");
}

TEST(Json, EscapesControlAndQuoteCharacters) {
  std::string raw = std::string("a\"b\\c\nd\te") + '\x01' + "\xc2\xb5";
  std::string s = json_object().field("s", raw).str();
  EXPECT_EQ(nlohmann::json::parse(s)["s"], raw);
  EXPECT_NE(s.find("\\u0001"), std::string::npos);
}

TEST(Json, KeysAreEscapedWhereverTheCharacterStands) {
  // Keys are checked eight bytes at a time: each character that needs an escape (or is not
  // printable ASCII) at every position of keys up to 24 bytes long, beside the plain key.
  for (char bad : {'"', '\\', '\n', '\x01', '\x1f', '\x7f', '\x80', '\xff'}) {
    for (size_t len = 1; len <= 24; ++len) {
      for (size_t at = 0; at < len; ++at) {
        std::string key(len, 'k');
        key[at] = bad;
        std::string s = json_object().field("a", 1).field(key, "2").field(key + "x", 3).str();
        if (static_cast<unsigned char>(bad) >= 0x80) {  // not UTF-8 alone: written through as it is
          EXPECT_NE(s.find("\"" + key + "\":\"2\""), std::string::npos) << s;
          continue;
        }
        auto j = nlohmann::json::parse(s, nullptr, false);
        ASSERT_FALSE(j.is_discarded()) << s;
        EXPECT_EQ(j[key], "2") << s;
        EXPECT_EQ(j[key + "x"], 3) << s;
      }
      std::string plain(len, ' ');
      plain[len - 1] = '~';
      EXPECT_EQ(json_object().field(plain, 1).str(), "{\"" + plain + "\":1}");
    }
  }
  EXPECT_EQ(json_object().field("", 1).str(), R"({"":1})");
}

TEST(Json, NonFiniteNumbersAreNull) {
  std::string s = json_object()
                      .field("nan", std::nan(""))
                      .field("inf", std::numeric_limits<double>::infinity())
                      .str();
  auto j = nlohmann::json::parse(s);
  EXPECT_TRUE(j["nan"].is_null());
  EXPECT_TRUE(j["inf"].is_null());
}

TEST(Json, MicrosecondsHaveTheNanosecondsResolutionAndNoMore) {
  EXPECT_EQ(json_object().micros("a", int64_t{240'250}).str(), "{\"a\":240.25}");
  EXPECT_EQ(json_object().micros("a", int64_t{1'000}).str(), "{\"a\":1}");
  EXPECT_EQ(json_object().micros("a", int64_t{7}).str(), "{\"a\":0.007}");
  EXPECT_EQ(json_object().micros("a", int64_t{-1'500}).str(), "{\"a\":-1.5}");
  EXPECT_EQ(json_object().micros("a", 240'249.99999999983).str(), "{\"a\":240.25}");  // a mean, rounded to the ns
  EXPECT_EQ(json_object().micros("a", std::nan("")).str(), "{\"a\":null}");
}

TEST(Json, DoublesRoundTrip) {
  double v = 0.1 + 0.2;
  auto j = nlohmann::json::parse(json_object().field("v", v).str());
  EXPECT_EQ(j["v"].get<double>(), v);
}

}  // namespace
}  // namespace synscope::render

namespace synscope::render {
namespace {

// An object written into a caller's buffer gives the same text as one with its own string,
// nested objects included; a copy of an own-string object writes into its own copy.
TEST(JsonObject, WrittenIntoABufferMatchesTheOwnStringForm) {
  std::string buffer = "before ";
  json_object into(buffer);
  into.field("id", 7).object("tfo", [](json_object& t) { t.field("bytes", 0).field("acked", false); }).micros("rtt_us", int64_t{240250});
  into.close();
  json_object nested;
  nested.field("bytes", 0).field("acked", false);
  std::string own = json_object().field("id", 7).field("tfo", nested).micros("rtt_us", int64_t{240250}).str();
  EXPECT_EQ(buffer, "before " + own);
  EXPECT_EQ(own, R"({"id":7,"tfo":{"bytes":0,"acked":false},"rtt_us":240.25})");
  json_object a;
  a.field("x", 1);
  json_object b = a;
  b.field("y", "two\n");
  EXPECT_EQ(a.str(), R"({"x":1})");
  EXPECT_EQ(b.str(), R"({"x":1,"y":"two\n"})");
  std::array<std::string_view, 2> names = {"sack", "a\"b"};
  EXPECT_EQ(json_object().field("n", std::span<const std::string_view>(names)).str(), R"({"n":["sack","a\"b"]})");
}

}  // namespace
}  // namespace synscope::render
