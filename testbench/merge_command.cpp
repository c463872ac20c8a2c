// axsa merge: joins the shard databases of one campaign (axsa campaign --shard I/N) into one that
// equals a single process's run (docs/scale-out.md). The checks and the writing live in
// faults/campaign_merge.h; this parses the command line and prints what was merged.
#include <cstdio>
#include <iostream>

#include "faults/campaign_lock.h"
#include "faults/campaign_merge.h"
#include "testbench/commands.h"
#include "testbench/json.h"
#include "testbench/options.h"

namespace po = boost::program_options;

namespace axsa::cli {

int run_merge(const std::vector<std::string>& args) {
  po::options_description desc("Options");
  desc.add_options()
    ("help,h", "show this help")
    ("partial", "accept shards that still have pending faults (running or interrupted); they stay pending\n"
                "in the merged database, which axsa campaign --resume can finish")
    ("overwrite", "replace an existing campaign database at OUT.db")
    ("json", "print what was merged as one JSON object");
  po::options_description hidden;
  hidden.add_options()("files", po::value<std::vector<std::string>>(), "OUT.db SHARD.db...");
  po::options_description all;
  all.add(desc).add(hidden);
  po::positional_options_description positional;
  positional.add("files", -1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
    if (vm.count("help")) {
      std::cout << "Usage: axsa merge OUT.db SHARD.db... [options]\n"
                   "Joins the shards 1/N..N/N of one campaign (axsa campaign --shard I/N) into OUT.db, which then\n"
                   "equals a single-process run of the campaign. Refused, with one line naming the file: a file\n"
                   "given twice, a file that is not a shard, shards of different campaigns or golden runs, shards\n"
                   "of different splits or the same shard twice (overlap), a missing shard, a fault list that is\n"
                   "not its slice of the sample, an incomplete shard (unless --partial).\n\n"
                << desc << '\n';
      return 0;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    throw config_error(e.what());
  }
  const auto files = vm.count("files") ? vm["files"].as<std::vector<std::string>>() : std::vector<std::string>{};
  if (files.size() < 2) throw config_error("expects the output database and at least one shard: axsa merge OUT.db SHARD.db...");
  faults::merge_options options;
  options.partial = vm.count("partial") > 0;
  options.overwrite = vm.count("overwrite") > 0;
  const std::vector<std::string> shards(files.begin() + 1, files.end());
  const faults::campaign_lock lock = faults::campaign_lock::acquire(files.front());  // one writer per database
  const faults::merge_summary s = faults::merge_shards(files.front(), shards, options);
  if (vm.count("json")) {
    json_object o;
    o.add("database", files.front()).add("shards", s.shards).add("sample_size", s.sample_size);
    o.add("faults", s.faults_done).add("pairs", s.pairs).add("complete", s.faults_done == s.sample_size);
    std::cout << o.str() << std::endl;
  } else {
    std::printf("merged       %llu shards into %s: %llu of %llu faults done, %llu pairs%s\n",
                static_cast<unsigned long long>(s.shards), files.front().c_str(),
                static_cast<unsigned long long>(s.faults_done), static_cast<unsigned long long>(s.sample_size),
                static_cast<unsigned long long>(s.pairs), s.faults_done == s.sample_size ? "" : " (partial)");
  }
  return 0;
}

}  // namespace axsa::cli
