#include "testbench/options.h"

#include <iostream>

namespace po = boost::program_options;

namespace axsa::cli {

std::uint64_t ranged(const po::variables_map& vm, const char* option, long long lo, long long hi) {
  const long long v = vm[option].as<long long>();
  if (v < lo || v > hi) {
    throw config_error("--" + std::string(option) + " must be in " + std::to_string(lo) + ".." + std::to_string(hi) +
                       " (got " + std::to_string(v) + ")");
  }
  return static_cast<std::uint64_t>(v);
}

void add_array_options(po::options_description& desc, const array_options& which) {
  const hw::array_config& d = which.defaults;
  const std::string dim = " (1.." + std::to_string(hw::array_config::max_dim) + ")";
  desc.add_options()
    ("rows", po::value<long long>()->default_value(d.rows), ("PE rows R" + dim).c_str())
    ("cols", po::value<long long>()->default_value(d.cols), ("PE columns C" + dim).c_str())
    ("bits", po::value<long long>()->default_value(d.data_bits), "data width W of weights and activations (2..16)");
  if (which.acc_bits_auto) {
    desc.add_options()("acc-bits", po::value<long long>(),
                       "accumulator width A (2..64; default: the smallest that cannot overflow, >= 32)");
  } else {
    desc.add_options()("acc-bits", po::value<long long>()->default_value(d.acc_bits),
                       "accumulator width A (2..64), wraps on overflow");
  }
  desc.add_options()("mult", po::value<std::string>()->default_value("exact"), which.mult_help.c_str());
  add_operand_align_option(desc);
  if (which.mult_eval) {
    desc.add_options()("mult-eval", po::value<std::string>()->default_value("table"),
                       "how the array evaluates a registered multiplier: table (product table, up to 12 bits) or rtl "
                       "(the verilated model for every product)");
  }
}

void add_operand_align_option(po::options_description& desc) {
  desc.add_options()("operand-align", po::value<std::string>()->default_value("low"),
                     "where W-bit data sit in an N-bit multiplier: low (sign-extended, the design) or high (in the top "
                     "bits, the product shifted right by 2(N-W), rounding down; docs/quantization.md)");
}

hw::array_config array_from_options(const po::variables_map& vm) {
  hw::array_config cfg;
  cfg.rows = static_cast<unsigned>(ranged(vm, "rows", 1, hw::array_config::max_dim));
  cfg.cols = static_cast<unsigned>(ranged(vm, "cols", 1, hw::array_config::max_dim));
  cfg.data_bits = static_cast<unsigned>(ranged(vm, "bits", 2, 16));
  if (vm.count("operand-align")) {
    try {
      cfg.align = hw::parse_operand_align(vm["operand-align"].as<std::string>());
    } catch (const config_error& e) {
      throw config_error(std::string("--operand-align: ") + e.what());
    }
  }
  return cfg;
}

namespace {
std::uint64_t parse_number(const std::string& option, const std::string& text, const std::string& whole) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos || text.size() > 18) {
    throw config_error("--" + option + ": '" + whole + "' is not of the form it expects (non-negative integers)");
  }
  return std::stoull(text);
}
}  // namespace

std::pair<std::uint64_t, std::uint64_t> parse_span(const std::string& option, const std::string& text) {
  const auto colon = text.find(':');
  if (colon == std::string::npos) throw config_error("--" + option + " expects FIRST:LAST (got '" + text + "')");
  const auto first = parse_number(option, text.substr(0, colon), text);
  const auto last = parse_number(option, text.substr(colon + 1), text);
  if (first > last) throw config_error("--" + option + ": first must not exceed last (got '" + text + "')");
  return {first, last};
}

region parse_region(const std::string& option, const std::string& text, unsigned rows, unsigned cols) {
  const auto comma = text.find(',');
  if (comma == std::string::npos) throw config_error("--" + option + " expects R0:R1,C0:C1 (got '" + text + "')");
  const auto [r0, r1] = parse_span(option, text.substr(0, comma));
  const auto [c0, c1] = parse_span(option, text.substr(comma + 1));
  if (r1 >= rows || c1 >= cols) {
    throw config_error("--" + option + " '" + text + "' lies outside the " + std::to_string(rows) + "x" +
                       std::to_string(cols) + " array (rows 0.." + std::to_string(rows - 1) + ", cols 0.." +
                       std::to_string(cols - 1) + ")");
  }
  return {static_cast<unsigned>(r0), static_cast<unsigned>(r1), static_cast<unsigned>(c0), static_cast<unsigned>(c1)};
}

bool parse_command(const std::string& command, const std::string& synopsis, const po::options_description& desc,
                   const std::vector<std::string>& args, po::variables_map& vm) {
  try {
    const po::parsed_options parsed = po::command_line_parser(args).options(desc).run();
    // Words that are no option's value would otherwise be dropped without a word (a model path
    // given without --model, say); the commands take none.
    const auto stray = po::collect_unrecognized(parsed.options, po::include_positional);
    if (!stray.empty()) throw config_error("unexpected argument '" + stray.front() + "' (options start with --)");
    po::store(parsed, vm);
    if (vm.count("help")) {
      std::cout << "Usage: axsa " << command << " [options]\n" << synopsis << "\n\n" << desc << '\n';
      return false;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    throw config_error(e.what());
  }
  return true;
}

}  // namespace axsa::cli
