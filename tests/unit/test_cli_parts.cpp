// Pieces of the command line that need no simulation: spans, regions, JSON quoting.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "testbench/json.h"
#include "testbench/options.h"

namespace axsa::cli {
namespace {

TEST(options, span_and_region_parse_or_explain) {
  EXPECT_EQ(parse_span("vcd-cycles", "3:9"), (std::pair<std::uint64_t, std::uint64_t>{3, 9}));
  EXPECT_THROW(parse_span("vcd-cycles", "9:3"), config_error);
  EXPECT_THROW(parse_span("vcd-cycles", "9"), config_error);
  EXPECT_THROW(parse_span("vcd-cycles", "a:3"), config_error);
  EXPECT_THROW(parse_span("vcd-cycles", "-1:3"), config_error);
  const region r = parse_region("vcd-region", "1:2,0:3", 4, 4);
  EXPECT_EQ(r.r0, 1u);
  EXPECT_EQ(r.r1, 2u);
  EXPECT_EQ(r.c0, 0u);
  EXPECT_EQ(r.c1, 3u);
  try {
    parse_region("vcd-region", "0:4,0:1", 4, 4);
    ADD_FAILURE() << "region outside the array accepted";
  } catch (const config_error& e) {
    EXPECT_NE(std::string(e.what()).find("outside the 4x4 array"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_region("vcd-region", "0:1", 4, 4), config_error);
}

TEST(json, escapes_and_orders_keys) {
  json_object o;
  o.add("a", std::uint64_t{1}).add("q\"uote", "x\\y\n\x01").add("nan", std::numeric_limits<double>::quiet_NaN()).add("t", true);
  EXPECT_EQ(o.str(), "{\"a\": 1, \"q\\\"uote\": \"x\\\\y\\n\\u0001\", \"nan\": null, \"t\": true}");
  const json_value back = json_value::parse(o.str());
  EXPECT_EQ(back.at("q\"uote"), "x\\y\n\x01");
  EXPECT_TRUE(back.at("nan").is_null());
}

// The layout scripts grep ("key": value, one line) and numbers as the hand-written writer gave
// them: whole doubles as integers, other doubles exact (the shortest text that reads back equal).
TEST(json, one_line_layout_and_numbers_that_round_trip) {
  json_object inner, o;
  inner.add("offchip_pj", 0.0).add("inf", HUGE_VAL);
  const double third = 1.0 / 3.0, tiny = 1.2345678901234567e-300, big = 1e300;
  o.add("whole", 3.0).add("negative_whole", -42.0).add("third", third).add("tiny", tiny).add("big", big);
  o.add("nested", inner).add("list", json_value::array({json_number(0.5), json_number(2.0)})).add("empty", json_value::array());
  EXPECT_EQ(inner.str(), "{\"offchip_pj\": 0, \"inf\": null}");
  const std::string text = o.str();
  EXPECT_EQ(text.find('\n'), std::string::npos) << text;
  EXPECT_NE(text.find("{\"whole\": 3, \"negative_whole\": -42, \"third\": 0.3333333333333333, "), std::string::npos) << text;
  EXPECT_NE(text.find("\"nested\": {\"offchip_pj\": 0, \"inf\": null}, \"list\": [0.5, 2], \"empty\": []}"), std::string::npos) << text;
  const json_value back = json_value::parse(text);
  EXPECT_TRUE(back.at("whole").is_number_integer());
  EXPECT_EQ(back.at("third").get<double>(), third);
  EXPECT_EQ(back.at("tiny").get<double>(), tiny);
  EXPECT_EQ(back.at("big").get<double>(), big);
  EXPECT_EQ(to_line(json_value::array({json_value::object(), "a"})), "[{}, \"a\"]");
}

}  // namespace
}  // namespace axsa::cli
