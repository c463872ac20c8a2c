// The axsa subcommands. Each takes its arguments (without the command name) and returns the
// process exit code; bad input is thrown as config_error and becomes one line and exit 2.
#pragma once

#include <string>
#include <vector>

namespace axsa::cli {

int run_gemm(const std::vector<std::string>& args);
int run_multipliers(const std::vector<std::string>& args);
int run_infer(const std::vector<std::string>& args);
int run_campaign(const std::vector<std::string>& args);
int run_report(const std::vector<std::string>& args);
int run_coverify(const std::vector<std::string>& args);
int run_epsilon(const std::vector<std::string>& args);
int run_scalesim(const std::vector<std::string>& args);
int run_sweep(const std::vector<std::string>& args);
int run_merge(const std::vector<std::string>& args);

}  // namespace axsa::cli
