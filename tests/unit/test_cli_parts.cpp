// Pieces of the command line that need no simulation: spans, regions, JSON quoting.
#include <gtest/gtest.h>

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
  o.add("a", std::uint64_t{1}).add("q\"uote", "x\\y\n").add("nan", std::numeric_limits<double>::quiet_NaN()).add("t", true);
  EXPECT_EQ(o.str(), "{\"a\": 1, \"q\\\"uote\": \"x\\\\y\\u000a\", \"nan\": null, \"t\": true}");
}

}  // namespace
}  // namespace axsa::cli
