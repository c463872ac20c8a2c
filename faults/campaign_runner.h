// Campaign orchestration (docs/campaigns.md): the order in which a sample is stored and run, and
// the run of a database's pending faults on one engine — a worker pool over the shortcut engine,
// or the cycle-accurate system (fast or structural engine) one fault after another — with a
// result writer that commits finished faults in batches and a progress line on stderr. The
// command line (testbench/campaign_command.cpp) only parses options and prints the summary.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "faults/campaign.h"
#include "faults/campaign_db.h"
#include "faults/campaign_shard.h"  // sample_in_run_order
#include "faults/fault_space.h"

namespace axsa::faults {

enum class campaign_engine { shortcut, systemc, structural };
campaign_engine parse_campaign_engine(const std::string& text);  // throws config_error naming the choices
const char* to_string(campaign_engine e);

struct run_report {
  std::uint64_t faults_run = 0;
  double seconds = 0;      // wall time of the run (golden run and setup not included)
  double cpu_seconds = 0;  // processor time of the run, every thread (and with MPI every rank) summed
};

// Processor time of this process so far, all threads (user + system), in seconds.
double process_cpu_seconds();

// Opens the campaign database at `path` for `cfg` (creates it, or with `resume` continues it, with
// `overwrite` replaces it) and stores the golden run and the sample (a shard: its slice) unless it
// holds them already. config_error for a shard of more slices than the sample has faults.
campaign_db open_campaign(const std::string& path, const campaign_config& cfg, const golden_reference& golden,
                          bool resume, bool overwrite);

// The pilot of a stratified campaign (faults/stratified.h): every fault on the shortcut engine over the
// golden run's images, `jobs` threads; per fault, its pairs per outcome. Nothing is stored.
std::vector<std::array<std::uint64_t, outcome_count>> run_pilot(const golden_reference& golden,
                                                                 const std::vector<fault>& list, unsigned jobs);

// Runs every pending fault of `db` over the golden run's images and stores each fault's results.
// `jobs` worker threads serve the shortcut engine; the full simulations run one fault at a time
// (SystemC allows one simulation per process, so call this at most once with them). With the
// shortcut engine, faults on sites it does not compute (control: shortcut_site()) run the full
// simulation on the fast engine after the others. Each fault's engine is stored with its results.
// Rethrows the first failure of a worker or of the database.
run_report run_pending_faults(campaign_db& db, const golden_reference& golden, campaign_engine engine, unsigned jobs);

}  // namespace axsa::faults
