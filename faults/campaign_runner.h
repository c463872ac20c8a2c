// Campaign orchestration (docs/campaigns.md): the order in which a sample is stored and run, and
// the run of a database's pending faults on one engine — a worker pool over the shortcut engine,
// or the cycle-accurate system (fast or structural engine) one fault after another — with a
// result writer that commits finished faults in batches and a progress line on stderr. The
// command line (testbench/campaign_command.cpp) only parses options and prints the summary.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "faults/campaign.h"
#include "faults/campaign_db.h"
#include "faults/fault_space.h"

namespace axsa::faults {

// `n` faults of `space` drawn with `seed` (all of them when n is the population), in a seeded random
// order: any prefix of a partial campaign is then itself a random sample, so interim reports are
// unbiased.
std::vector<fault> sample_in_run_order(const fault_space& space, std::uint64_t n, std::uint64_t seed);

enum class campaign_engine { shortcut, systemc, structural };
campaign_engine parse_campaign_engine(const std::string& text);  // throws config_error naming the choices
const char* to_string(campaign_engine e);

struct run_report {
  std::uint64_t faults_run = 0;
  double seconds = 0;
};

// Runs every pending fault of `db` over the golden run's images and stores each fault's results.
// `jobs` worker threads serve the shortcut engine; the full simulations run one fault at a time
// (SystemC allows one simulation per process, so call this at most once with them). Rethrows the
// first failure of a worker or of the database.
run_report run_pending_faults(campaign_db& db, const golden_reference& golden, campaign_engine engine, unsigned jobs);

}  // namespace axsa::faults
