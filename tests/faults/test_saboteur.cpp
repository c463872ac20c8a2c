// The saboteur in the SystemC array: a fault on PE (r,c) changes exactly the products it should,
// at exactly the cycles of its window. A golden job and the same job with the fault run back to
// back on one array; every PE's accumulator increment is recorded per cycle, and the difference
// must be exactly where the fault's semantics put it:
//  - weight-link: PE (r,c) at the window's cycles g, and every PE (i,c) below it at g + (i - r),
//    each multiplying the corrupted weight (the value forwarded south);
//  - weight-mult: PE (r,c) alone, at the window's cycles.
#include <gtest/gtest.h>

#include <limits>
#include <map>
#include <sstream>
#include <string>

#include "hw/fault.h"
#include "sw/gemm_workload.h"
#include "tests/support/array_harness.h"

namespace axsa::test {
namespace {

using faults::fault;
using faults::fault_kind;
using faults::fault_site;

// The corrupted 8-bit weight by plain arithmetic, independent of fault::apply: bit b (0 = the
// least significant) of the two's-complement byte is worth 2^b, and the byte reads back as a
// signed value (>= 128 means negative).
std::int32_t corrupt_int8(std::int32_t weight, fault_kind kind, unsigned bit) {
  std::int32_t byte = weight < 0 ? weight + 256 : weight;
  const std::int32_t worth = std::int32_t{1} << bit;
  const bool set = (byte / worth) % 2 == 1;
  if (kind == fault_kind::stuck_at_0 && set) byte -= worth;
  if (kind == fault_kind::stuck_at_1 && !set) byte += worth;
  if (kind == fault_kind::bit_flip) byte += set ? -worth : worth;
  return byte >= 128 ? byte - 256 : byte;
}

struct pe_cycle {
  std::int64_t delta;     // accumulator increment on this cycle's edge (mod 2^32)
  std::int32_t west, north;
  bool mac;
  bool compute;  // compute phase (in the drain the accumulators shift instead)
};
using trace = std::vector<std::vector<pe_cycle>>;  // [cycle in job][pe]

struct saboteur_case {
  fault_site site;
  fault_kind kind;
  unsigned row, col, bit;
  std::uint64_t first, last;  // window relative to the faulty job's first cycle
};

void PrintTo(const saboteur_case& c, std::ostream* os) {
  *os << faults::to_string(c.site) << " " << faults::to_string(c.kind) << " PE " << c.row << "," << c.col << " bit "
      << c.bit << " cycles " << c.first << ".." << c.last;
}

std::string case_name(const testing::TestParamInfo<saboteur_case>& param) {
  const saboteur_case& c = param.param;
  std::ostringstream s;
  s << (c.site == fault_site::weight_link ? "link" : "mult") << "_"
    << (c.kind == fault_kind::bit_flip ? "flip" : c.kind == fault_kind::stuck_at_0 ? "sa0" : "sa1") << "_r" << c.row
    << "c" << c.col << "b" << c.bit << "_" << c.first << "_" << c.last;
  return s.str();
}

class saboteur : public testing::TestWithParam<saboteur_case> {};

TEST_P(saboteur, changes_exactly_the_products_it_should) {
  const saboteur_case p = GetParam();
  hw::array_config cfg;
  cfg.rows = 5;
  cfg.cols = 4;
  cfg.data_bits = 8;
  const auto w = sw::make_workload({13, 21, 7}, 8, sw::operand_fill::random, 9);  // 3 x 2 folds, ragged
  std::vector<std::int64_t> golden(13 * 7), faulty(13 * 7);
  array_harness h("h", cfg);
  h.jobs.push_back({w.shape, w.act.data(), w.weight.data(), golden.data()});
  h.jobs.push_back({w.shape, w.act.data(), w.weight.data(), faulty.data()});
  const std::uint64_t job_cycles = 6 * (21 + 2 * 5 + 4 - 2);
  fault f{p.site, p.kind, p.row, p.col, p.bit, job_cycles + p.first, job_cycles + p.last};
  h.array.engine().set_faults({f});

  std::vector<trace> traces(2, trace(job_cycles, std::vector<pe_cycle>(20)));
  std::vector<std::vector<std::int64_t>> before(2, std::vector<std::int64_t>(20));
  std::uint64_t seen = 0;
  h.array.add_cycle_observer([&](const hw::array_engine& core) {
    // Called with the state of cycle `total` before its edge, and once after each job's last edge.
    const std::uint64_t total = core.total_cycles();
    const std::uint64_t job = total / job_cycles, t = total % job_cycles;
    for (unsigned i = 0; i < 5; ++i) {
      for (unsigned j = 0; j < 4; ++j) {
        const unsigned pe = i * 4 + j;
        const std::int64_t acc = core.acc(i, j);
        if (seen > 0 && (t > 0 || job > 0)) {  // the increment of the previous cycle
          const std::uint64_t prev = total - 1;
          const std::uint64_t pj = prev / job_cycles;
          traces[pj][prev % job_cycles][pe].delta = static_cast<std::int32_t>(acc - before[pj][pe]);
        }
        if (job < 2 && t < job_cycles) {
          traces[job][t][pe].west = core.west_in(i, j);
          traces[job][t][pe].north = core.north_in(i, j);
          traces[job][t][pe].mac = core.mac_enabled(i, j);
          traces[job][t][pe].compute =
              static_cast<const hw::array_core&>(core).current_phase() == hw::array_core::phase::compute;
          before[job][pe] = acc;
        }
      }
    }
    ++seen;
  });
  sc_core::sc_start();
  ASSERT_EQ(h.cycles, (std::vector<std::uint64_t>{job_cycles, job_cycles}));
  EXPECT_EQ(golden, sw::reference_gemm(w, 32)) << "the fault must not touch the golden job";

  // Expected increments of the faulty job, from the golden trace and the fault semantics alone.
  std::size_t affected = 0;
  for (std::uint64_t t = 0; t < job_cycles; ++t) {
    for (unsigned i = 0; i < 5; ++i) {
      for (unsigned j = 0; j < 4; ++j) {
        const pe_cycle& g = traces[0][t][i * 4 + j];
        const pe_cycle& x = traces[1][t][i * 4 + j];
        std::int32_t weight = g.north;
        bool hit = false;
        if (j == p.col) {
          if (p.site == fault_site::weight_link && i >= p.row && t >= i - p.row) {
            const std::uint64_t at_fault = t - (i - p.row);  // the cycle the weight passed PE (r,c)
            hit = at_fault >= p.first && at_fault <= p.last;
          } else if (p.site == fault_site::weight_mult && i == p.row) {
            hit = t >= p.first && t <= p.last;
          }
        }
        if (hit) weight = corrupt_int8(weight, p.kind, p.bit);
        ASSERT_EQ(x.mac, g.mac);
        ASSERT_EQ(x.compute, g.compute);
        if (!g.compute) continue;
        const std::int64_t want = g.mac ? std::int64_t{g.west} * weight : 0;
        EXPECT_EQ(x.delta, want) << "PE " << i << "," << j << " cycle " << t;
        if (g.mac && want != g.delta) ++affected;
        // The link the PE forwards: corrupted for the link site, intact for the multiplier site.
        if (p.site == fault_site::weight_mult) {
          EXPECT_EQ(x.north, g.north) << "PE " << i << "," << j << " cycle " << t;
        }
      }
    }
  }
  EXPECT_GT(affected, 0u) << "the case must change some product";
  EXPECT_EQ(faulty == golden, affected == 0);
}

INSTANTIATE_TEST_SUITE_P(
    faults, saboteur,
    testing::Values(saboteur_case{fault_site::weight_link, fault_kind::stuck_at_1, 1, 2, 6, 0, 1000},
                    saboteur_case{fault_site::weight_link, fault_kind::stuck_at_0, 0, 0, 3, 0, 1000},
                    saboteur_case{fault_site::weight_link, fault_kind::bit_flip, 2, 1, 7, 10, 10},
                    saboteur_case{fault_site::weight_link, fault_kind::bit_flip, 0, 3, 0, 5, 60},
                    saboteur_case{fault_site::weight_mult, fault_kind::stuck_at_1, 1, 2, 6, 0, 1000},
                    saboteur_case{fault_site::weight_mult, fault_kind::stuck_at_0, 4, 0, 2, 0, 1000},
                    saboteur_case{fault_site::weight_mult, fault_kind::bit_flip, 3, 3, 5, 10, 11}),
    case_name);

// The hand arithmetic above on the extremes, as worked out on paper.
TEST(saboteur_faults, corrupted_bytes_worked_out_by_hand) {
  EXPECT_EQ(corrupt_int8(0, fault_kind::stuck_at_1, 0), 1);
  EXPECT_EQ(corrupt_int8(0, fault_kind::stuck_at_1, 7), -128);     // the sign bit
  EXPECT_EQ(corrupt_int8(-128, fault_kind::bit_flip, 7), 0);
  EXPECT_EQ(corrupt_int8(-1, fault_kind::stuck_at_0, 0), -2);      // 0xFF -> 0xFE
  EXPECT_EQ(corrupt_int8(127, fault_kind::stuck_at_0, 6), 63);     // 0x7F -> 0x3F
  EXPECT_EQ(corrupt_int8(5, fault_kind::stuck_at_1, 0), 5);        // already set
  // fault::apply must agree with the hand values on every byte, kind and bit.
  for (int w = -128; w <= 127; ++w)
    for (unsigned b = 0; b < 8; ++b)
      for (fault_kind k : {fault_kind::stuck_at_0, fault_kind::stuck_at_1, fault_kind::bit_flip}) {
        const fault f{fault_site::weight_link, k, 0, 0, b, 0, 0};
        ASSERT_EQ(f.apply(w, 8), corrupt_int8(w, k, b)) << "weight " << w << " bit " << b;
      }
}

TEST(saboteur_faults, parse_validate_and_describe) {
  const fault f = faults::parse_fault("weight-link:stuck-at-1:3:4:6");
  EXPECT_EQ(f.site, fault_site::weight_link);
  EXPECT_EQ(f.kind, fault_kind::stuck_at_1);
  EXPECT_EQ(faults::describe(f), "weight-link:stuck-at-1:3:4:6");
  EXPECT_EQ(faults::parse_fault(faults::describe(faults::parse_fault("weight-mult:bit-flip:0:0:2:100:120"))),
            faults::parse_fault("weight-mult:bit-flip:0:0:2:100:120"));
  EXPECT_EQ(f.apply(0, 8), 64);
  EXPECT_EQ(faults::parse_fault("weight-link:bit-flip:0:0:7").apply(5, 8), 5 - 128);
  EXPECT_EQ(faults::parse_fault("weight-link:stuck-at-0:0:0:7").apply(-1, 8), 127);
  hw::array_config cfg;
  cfg.rows = 4;
  cfg.cols = 4;
  EXPECT_THROW(faults::parse_fault("weight-link:stuck-at-1:4:0:0").validate(cfg), config_error);
  EXPECT_THROW(faults::parse_fault("weight-link:stuck-at-1:0:0:8").validate(cfg), config_error);
  for (const char* bad : {"weight:stuck-at-1:0:0:0", "weight-link:stuck:0:0:0", "weight-link:bit-flip:0:0",
                          "weight-link:bit-flip:a:0:0", "weight-link:bit-flip:0:0:0:9:3"}) {
    EXPECT_THROW(faults::parse_fault(bad), config_error) << bad;
  }
}

// Found by the fault-spec fuzzer's property (tests/fuzz/fuzz_fault_spec.cpp): a PE index of 2^32 used to
// wrap to 0 and inject on PE (0,0). Every number must mean what it says or be refused.
TEST(saboteur_faults, numbers_out_of_their_range_are_refused_not_wrapped) {
  try {
    faults::parse_fault("weight-link:stuck-at-1:4294967296:0:0");
    ADD_FAILURE() << "row 2^32 accepted";
  } catch (const config_error& e) {
    EXPECT_EQ(std::string(e.what()),
              "fault 'weight-link:stuck-at-1:4294967296:0:0': 4294967296 is out of range (at most 4294967295)");
  }
  EXPECT_THROW(faults::parse_fault("weight-link:stuck-at-1:0:4294967297:0"), config_error);
  EXPECT_THROW(faults::parse_fault("weight-link:stuck-at-1:0:0:99999999999"), config_error);
  EXPECT_THROW(faults::parse_fault("weight-link:stuck-at-1:0:0:0:18446744073709551616"), config_error);
  EXPECT_EQ(faults::parse_fault("weight-link:stuck-at-1:4294967295:0:0").row, 4294967295u);
  // Also from the fuzzer: a trailing ':' used to be dropped silently; it is an empty field.
  EXPECT_THROW(faults::parse_fault("weight-mult:bit-flip:0:0:0:15:"), config_error);
  EXPECT_THROW(faults::parse_fault("weight-mult:bit-flip:0:0:0:"), config_error);
  EXPECT_THROW(faults::parse_fault("weight-mult:bit-flip::0:0"), config_error);
  // Leading zeros are only zeros: the largest cycle still reads as itself.
  const fault f = faults::parse_fault("weight-mult:bit-flip:007:0:0:00000000000000000000018446744073709551615");
  EXPECT_EQ(f.row, 7u);
  EXPECT_EQ(f.first_cycle, std::numeric_limits<std::uint64_t>::max());
}

// The sites beyond the weight path: every one parses and prints back; the bit is checked against the
// site's width (W for operands, A for the accumulator); lists of sites parse in order, each once.
TEST(saboteur_faults, activation_and_accumulator_sites_parse_and_validate_per_site) {
  hw::array_config cfg;
  cfg.rows = 4;
  cfg.cols = 4;
  cfg.data_bits = 8;
  cfg.acc_bits = 20;
  for (const char* text : {"act-link:stuck-at-1:3:0:7", "act-mult:bit-flip:0:3:0:5:9", "acc:stuck-at-0:2:2:19:0:0"}) {
    const fault f = faults::parse_fault(text);
    EXPECT_EQ(faults::describe(f), text);
    EXPECT_NO_THROW(f.validate(cfg)) << text;
  }
  EXPECT_EQ(faults::parse_fault("acc:bit-flip:0:0:0").site, fault_site::acc);
  EXPECT_EQ(faults::parse_fault("act-mult:bit-flip:0:0:0").site, fault_site::act_mult);
  // Bit 8 of an 8-bit activation is refused; bit 8 of a 20-bit accumulator is fine, bit 20 not.
  EXPECT_THROW(faults::parse_fault("act-link:stuck-at-1:0:0:8").validate(cfg), config_error);
  EXPECT_NO_THROW(faults::parse_fault("acc:stuck-at-1:0:0:8").validate(cfg));
  try {
    faults::parse_fault("acc:stuck-at-1:0:0:20").validate(cfg);
    ADD_FAILURE() << "bit 20 of a 20-bit accumulator was accepted";
  } catch (const config_error& e) {
    EXPECT_NE(std::string(e.what()).find("20-bit accumulator (bits 0..19)"), std::string::npos) << e.what();
  }
  // 64-bit accumulators: bit 63 of the register word.
  cfg.acc_bits = 64;
  const fault top = faults::parse_fault("acc:stuck-at-1:0:0:63");
  EXPECT_NO_THROW(top.validate(cfg));
  EXPECT_EQ(top.apply_word(std::uint64_t{0}), std::uint64_t{1} << 63);
  EXPECT_EQ(faults::parse_fault("acc:bit-flip:0:0:31").apply_word(std::uint32_t{0xFFFFFFFF}), 0x7FFFFFFFu);
  // Weight-stationary: only the weight sites are modelled there.
  cfg.dataflow = hw::dataflow_kind::weight_stationary;
  EXPECT_NO_THROW(faults::parse_fault("weight-link:stuck-at-1:0:0:3").validate(cfg));
  EXPECT_THROW(faults::parse_fault("act-link:stuck-at-1:0:0:3").validate(cfg), config_error);

  EXPECT_EQ(faults::parse_sites("acc,weight-link,act-mult"),
            (std::vector<fault_site>{fault_site::acc, fault_site::weight_link, fault_site::act_mult}));
  EXPECT_EQ(faults::to_string(faults::parse_sites("act-link,acc")), "act-link,acc");
  for (const char* bad : {"", "acc,", ",acc", "acc,acc", "act-link,weight", "acc;act-link"}) {
    EXPECT_THROW(faults::parse_sites(bad), config_error) << bad;
  }
}

}  // namespace
}  // namespace axsa::test
