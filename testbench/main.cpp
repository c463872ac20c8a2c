// axsa: command-line front end of the approximate systolic-array model. sc_main dispatches to
// a subcommand; every error from user input ends as one line on stderr and exit code 2.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include <systemc>

#include "hw/array_config.h"
#include "testbench/commands.h"

namespace {

using command_fn = int (*)(const std::vector<std::string>&);

struct command_info {
  command_fn run;
  const char* summary;
};

const std::map<std::string, command_info>& commands() {
  static const std::map<std::string, command_info> table = {
      {"campaign", {axsa::cli::run_campaign, "run a statistical fault-injection campaign into SQLite"}},
      {"coverify", {axsa::cli::run_coverify, "run a GEMM on the model and the verilated RTL in lockstep, compare every cycle"}},
      {"epsilon", {axsa::cli::run_epsilon, "run a multi-exit network with weight-memory faults under EPSILON or a baseline"}},
      {"gemm", {axsa::cli::run_gemm, "run one GEMM on the cycle-accurate array and check it"}},
      {"infer", {axsa::cli::run_infer, "classify MNIST images with a quantised CNN on the array"}},
      {"merge", {axsa::cli::run_merge, "join the shard databases of one campaign (campaign --shard I/N) into one"}},
      {"multipliers", {axsa::cli::run_multipliers, "list the registered multipliers with error metrics and area"}},
      {"report", {axsa::cli::run_report, "summarise a fault-injection campaign database (Table I of the survey)"}},
      {"scalesim", {axsa::cli::run_scalesim, "run a SCALE-Sim topology and config on the array, write its COMPUTE_REPORT.csv"}},
      {"sweep", {axsa::cli::run_sweep, "run a grid of array sizes x widths x multipliers: cycles, accuracy, energy, area"}},
  };
  return table;
}

// One line, whatever the exception: a SystemC report carries its origin on further lines, and an
// exception thrown inside a process arrives wrapped as "uncaught exception: <what>".
std::string one_line(const std::exception& e) {
  std::string text = e.what();
  if (const auto* report = dynamic_cast<const sc_core::sc_report*>(&e)) {
    text = report->get_msg();
    const std::string wrapped = "uncaught exception: ";
    if (text.compare(0, wrapped.size(), wrapped) == 0) text.erase(0, wrapped.size());
  }
  text = text.substr(0, text.find('\n'));
  return text.empty() ? "unknown error" : text;
}

// The error line in one write: under mpirun other processes (the launcher's abort banner) write to
// the same stderr, and a line written piece by piece would be split by theirs.
void report_error(const std::string& line) {
  const std::string text = line + "\n";
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

void print_usage(std::ostream& out) {
  out << "Usage: axsa <command> [options]   (axsa <command> --help for its options)\n\nCommands:\n";
  for (const auto& [name, info] : commands()) out << "  " << name << std::string(14 - name.size(), ' ') << info.summary << '\n';
}

}  // namespace

int sc_main(int argc, char* argv[]) {
  // Errors and fatals from the kernel become exceptions we report on one line.
  sc_core::sc_report_handler::set_actions(sc_core::SC_ERROR, sc_core::SC_THROW);
  sc_core::sc_report_handler::set_actions(sc_core::SC_FATAL, sc_core::SC_THROW);

  if (argc < 2) {
    print_usage(std::cerr);
    return 2;
  }
  const std::string name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    print_usage(std::cout);
    return 0;
  }
  if (name == "--version") {
    std::cout << "axsa 0.1.0\n";
    return 0;
  }
  const auto it = commands().find(name);
  if (it == commands().end()) {
    std::cerr << "axsa: error: unknown command '" << name << "' (see axsa --help)\n";
    return 2;
  }
  int status = 1;
  try {
    status = it->second.run(std::vector<std::string>(argv + 2, argv + argc));
  } catch (const axsa::config_error& e) {
    report_error("axsa " + name + ": error: " + one_line(e));
    return 2;
  } catch (const std::exception& e) {
    report_error("axsa " + name + ": error: " + one_line(e));
    return 1;
  }
  // Results that never reached their reader (a full disk, a closed pipe) are a failure.
  std::cout.flush();
  if (std::fflush(stdout) != 0 || std::ferror(stdout) || !std::cout) {
    std::cerr << "axsa " << name << ": error: cannot write the results to standard output\n";
    return status == 0 ? 1 : status;
  }
  return status;
}

// libsystemc's own main prints the SystemC banner before sc_main runs; users of --json and
// scripts want only our output, so this main silences it and hands over to the kernel.
int main(int argc, char* argv[]) {
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
  return sc_core::sc_elab_and_sim(argc, argv);
}
