// Shared pieces of the command line: range-checked option values and parsers for the small
// "A:B" and "R0:R1,C0:C1" forms. Every failure is a config_error naming the option.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include <boost/program_options.hpp>

#include "hw/array_config.h"

namespace axsa::cli {

// Value of an integer option, checked against lo..hi. Options are parsed as signed so that
// "-1" is reported as out of range rather than wrapped to a huge unsigned number.
std::uint64_t ranged(const boost::program_options::variables_map& vm, const char* option, long long lo, long long hi);

// The array options the commands share, declared once: --rows, --cols, --bits, --acc-bits, --mult,
// --operand-align
// and --mult-eval, with their help and their defaults from hw::array_config (a command may start
// from other defaults, e.g. a built RTL size; acc_bits_auto leaves --acc-bits without a default, for
// commands that choose the width from the model; mult_eval false leaves --mult-eval out).
struct array_options {
  hw::array_config defaults{};
  bool acc_bits_auto = false;
  bool mult_eval = true;
  std::string mult_help = "multiplier in the PEs: exact (native) or a registered name (axsa multipliers)";
};
void add_array_options(boost::program_options::options_description& desc, const array_options& which);

// --operand-align low|high (part of add_array_options; for commands that declare --mult themselves).
void add_operand_align_option(boost::program_options::options_description& desc);

// The array's shape and data width from --rows, --cols and --bits (range-checked) and, when the command
// has it, its operand alignment from --operand-align; other fields default.
hw::array_config array_from_options(const boost::program_options::variables_map& vm);

// "A:B" -> {A, B} with A <= B.
std::pair<std::uint64_t, std::uint64_t> parse_span(const std::string& option, const std::string& text);

struct region {
  unsigned r0, r1, c0, c1;
};
// "R0:R1,C0:C1" inside a rows x cols array.
region parse_region(const std::string& option, const std::string& text, unsigned rows, unsigned cols);

// Parses args (without the command name) into vm; throws config_error for unknown or malformed options.
// Returns false (after printing help) when --help was given.
bool parse_command(const std::string& command, const std::string& synopsis,
                   const boost::program_options::options_description& desc, const std::vector<std::string>& args,
                   boost::program_options::variables_map& vm);

}  // namespace axsa::cli
