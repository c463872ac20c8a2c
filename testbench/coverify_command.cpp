// axsa coverify: one GEMM on the SystemC model and on the verilated RTL array in lockstep,
// comparing every register every cycle (rtl/array/lockstep.h, docs/rtl.md).
#include <filesystem>
#include <iostream>
#include <limits>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "hw/aligned_multiplier.h"
#include "hw/cycle_model.h"
#include "hw/saboteur.h"
#include "hw/systolic_array.h"
#include "rtl/array/array_cache.h"
#include "rtl/array/lockstep.h"
#include "rtl/mult_registry.h"
#include "sw/gemm_workload.h"
#include "testbench/commands.h"
#include "testbench/json.h"
#include "testbench/options.h"

namespace po = boost::program_options;

namespace axsa::cli {

namespace {

// "CYCLE:ROW:COL".
rtl::model_bug parse_bug(const std::string& text) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t colon; (colon = text.find(':', start)) != std::string::npos; start = colon + 1) {
    parts.push_back(text.substr(start, colon - start));
  }
  parts.push_back(text.substr(start));
  auto number = [&text](const std::string& s) {
    if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos) {
      throw config_error("--inject-bug expects CYCLE:ROW:COL, non-negative integers (got '" + text + "')");
    }
    return std::stoull(s);
  };
  if (parts.size() != 3) throw config_error("--inject-bug expects CYCLE:ROW:COL (got '" + text + "')");
  rtl::model_bug b;
  b.cycle = number(parts[0]);
  const auto row = number(parts[1]), col = number(parts[2]);
  if (row > hw::array_config::max_dim || col > hw::array_config::max_dim) {
    throw config_error("--inject-bug: PE (" + parts[1] + "," + parts[2] + ") is outside any array");
  }
  b.row = static_cast<unsigned>(row);
  b.col = static_cast<unsigned>(col);
  return b;
}

// "exact": the narrowest registered exact design that takes the data width.
std::string resolve_mult(const std::string& name, unsigned data_bits) {
  if (name != "exact") return name;
  const rtl::mult_entry* best = nullptr;
  for (const auto& e : rtl::registered_entries()) {
    if (std::string(e.module) == "axsa_mul_exact" && e.bits >= data_bits && (!best || e.bits < best->bits)) best = &e;
  }
  if (!best) throw config_error("no exact multiplier of at least " + std::to_string(data_bits) + " bits is registered");
  return best->name;
}

json_object json_mismatch(const rtl::mismatch& m) {
  json_object o;
  o.add("cycle", m.cycle).add("row", m.row).add("col", m.col).add("signal", m.signal);
  o.add("model", m.model).add("rtl", m.rtl);
  return o;
}

}  // namespace

int run_coverify(const std::vector<std::string>& args) {
  po::options_description desc("Options");
  desc.add_options()
    ("help,h", "show this help")
    ("m", po::value<long long>()->default_value(10), "rows of the activation matrix M")
    ("k", po::value<long long>()->default_value(16), "reduction length K")
    ("n", po::value<long long>()->default_value(7), "columns of the weight matrix N")
    ("fill", po::value<std::string>()->default_value("random"), "operands: random (full signed W-bit range), min or max")
    ("seed", po::value<long long>()->default_value(1), "random seed for the operands and the faults")
    ("faults", po::value<long long>()->default_value(0),
     "inject this many random faults (site among weight-link, weight-mult, act-link, act-mult and acc; kind, PE, "
     "bit, window) into both model and RTL")
    ("fault", po::value<std::vector<std::string>>(),
     "also inject this fault into both, site:kind:row:col:bit[:first[:last]] (e.g. weight-link:stuck-at-1:2:3:7, or "
     "control:stuck-at-1:0:0:64 on the RTL controller); repeatable, applied in the order given after the random ones")
    ("engine", po::value<std::string>()->default_value("fast"),
     "the model's cycle engine run against the RTL: fast (array_core) or structural (pe modules)")
    ("inject-bug", po::value<std::string>(),
     "CYCLE:ROW:COL: corrupt the model's accumulator of PE (ROW,COL) at CYCLE (a deliberate model bug)")
    ("vcd-prefix", po::value<std::string>()->default_value("coverify"),
     "on a mismatch, write PREFIX.model.vcd and PREFIX.rtl.vcd (+-10 cycles around it); '' writes none")
    ("no-rtl-build", "refuse a configuration that is neither built in nor cached, instead of verilating it now")
    ("json", "print one JSON object instead of text");
  array_options array;
  array.defaults.rows = array.defaults.cols = 4;  // a configuration built by default (AXSA_RTL_CONFIGS)
  array.mult_eval = false;                         // the model takes the table, as axsa gemm does
  array.mult_help = "multiplier in the PEs: a registered name, or exact (the narrowest exact design of at least W bits)";
  add_array_options(desc, array);
  po::variables_map vm;
  if (!parse_command("coverify",
                     "Runs one GEMM on the SystemC model and on the verilated RTL array in lockstep and compares every\n"
                     "PE's accumulator, link registers and MAC enable, the edge inputs and the drain outputs on every\n"
                     "cycle. Exit 0 when they agree, 1 at the first mismatch (reported with a VCD of both sides).\n"
                     "A configuration not verilated into the build (AXSA_RTL_CONFIGS) is verilated on first use into\n"
                     "the cache ($AXSA_CACHE_DIR, default ~/.cache/axsa) and reused afterwards (docs/rtl.md).",
                     desc, args, vm)) {
    return 0;
  }

  const auto rows = static_cast<unsigned>(ranged(vm, "rows", 1, hw::array_config::max_dim));
  const auto cols = static_cast<unsigned>(ranged(vm, "cols", 1, hw::array_config::max_dim));
  const auto bits = static_cast<unsigned>(ranged(vm, "bits", 2, 16));
  const auto acc_bits = static_cast<unsigned>(ranged(vm, "acc-bits", 2, 64));
  const hw::operand_align align = array_from_options(vm).align;
  hw::gemm_shape shape;
  shape.m = ranged(vm, "m", 1, 1 << 20);
  shape.k = ranged(vm, "k", 1, 1 << 20);
  shape.n = ranged(vm, "n", 1, 1 << 20);
  const auto seed = ranged(vm, "seed", 0, std::numeric_limits<long long>::max());
  const auto fault_count = ranged(vm, "faults", 0, 100000);
  const sw::operand_fill fill = sw::parse_fill(vm["fill"].as<std::string>());
  const bool json = vm.count("json") > 0;
  const std::string mult = resolve_mult(vm["mult"].as<std::string>(), bits);
  rtl::find_entry(mult);  // an unknown name is reported with the registered ones

  const rtl::array_entry* entry = rtl::find_array(rows, cols, bits, acc_bits, mult);
  const std::string wanted = std::to_string(rows) + "x" + std::to_string(cols) + "x" + std::to_string(bits) + "x" +
                             std::to_string(acc_bits) + ":" + mult;
  std::string rtl_origin = "built-in";
  if (!entry && vm.count("no-rtl-build")) {
    throw config_error("no RTL array built for " + wanted + " (built: " + rtl::built_array_list() +
                       "; drop --no-rtl-build to verilate it into the cache, or add it to -DAXSA_RTL_CONFIGS, see docs/rtl.md)");
  }
  if (!entry) {
    rtl::array_request req;
    req.rows = rows;
    req.cols = cols;
    req.data_bits = bits;
    req.acc_bits = acc_bits;
    req.mult = mult;
    const rtl::array_lookup found = rtl::array_on_demand(req, std::cerr);
    entry = found.entry;
    rtl_origin = found.origin == rtl::array_origin::built_now ? "built now" : "cached";
  }

  const sw::gemm_workload work = sw::make_workload(shape, bits, fill, seed);
  const std::uint64_t run_cycles = hw::gemm_cycles(shape, rows, cols);
  rtl::lockstep_options opt;
  opt.vcd_prefix = vm["vcd-prefix"].as<std::string>();
  if (!opt.vcd_prefix.empty()) {
    // Checked before the run: a mismatch found after minutes should not end on an unwritable path.
    const std::filesystem::path dir = std::filesystem::path(opt.vcd_prefix + ".model.vcd").parent_path();
    if (!dir.empty() && !std::filesystem::is_directory(dir)) {
      throw config_error("--vcd-prefix: directory '" + dir.string() + "' does not exist");
    }
  }
  if (vm.count("inject-bug")) opt.bug = parse_bug(vm["inject-bug"].as<std::string>());
  if (fault_count > 0) {
    std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ull);
    opt.faults = rtl::random_faults(fault_count, rows, cols, bits, acc_bits, run_cycles, rng,
                                    {faults::fault_site::weight_link, faults::fault_site::weight_mult,
                                     faults::fault_site::act_link, faults::fault_site::act_mult, faults::fault_site::acc});
  }
  if (vm.count("fault")) {
    for (const auto& text : vm["fault"].as<std::vector<std::string>>()) opt.faults.push_back(faults::parse_fault(text));
  }

  const hw::engine_kind engine = hw::parse_engine(vm["engine"].as<std::string>());
  const auto model_mult = rtl::model_multiplier(*entry, align);
  rtl::lockstep_result res;
  if (engine == hw::engine_kind::structural) {
    // The structural array is built with a saboteur wherever a fault acts, then elaborated.
    hw::array_config cfg;
    cfg.rows = rows;
    cfg.cols = cols;
    cfg.data_bits = bits;
    cfg.acc_bits = acc_bits;
    cfg.align = align;
    cfg.engine = engine;
    for (const auto& f : opt.faults) f.validate(cfg);
    cfg.saboteurs = hw::plan_for(opt.faults);
    hw::systolic_array model("array", cfg);
    model.set_multiplier(model_mult.get());
    sc_core::sc_start(sc_core::SC_ZERO_TIME);
    res = rtl::run_lockstep(*entry, model.engine(), shape, work.act.data(), work.weight.data(), opt);
  } else {
    res = rtl::run_lockstep(*entry, model_mult.get(), shape, work.act.data(), work.weight.data(), opt);
  }

  // After a full run without faults or a planted bug, both sides must also have computed the GEMM:
  // checked against the plain C++ reference with the design's behavioural model (its verilated
  // model for EvoApprox circuits). After a mismatch the run stops, so the outputs are incomplete.
  std::optional<bool> reference_match;
  if (res.match && opt.faults.empty() && !opt.bug) {
    std::shared_ptr<const hw::multiplier> ref = hw::align_multiplier(rtl::make_behavioural(rtl::find_entry(mult)), bits, align);
    if (!ref) ref = rtl::make_multiplier(mult, bits, rtl::eval_mode::rtl, align);
    reference_match = sw::reference_gemm(work, acc_bits, ref.get()) == res.rtl_out;
  }
  const bool outputs_equal = res.model_out == res.rtl_out;

  if (json) {
    json_object o;
    o.add("rtl", entry->name).add("rtl_origin", rtl_origin).add("engine", hw::to_string(engine)).add("rows", rows).add("cols", cols).add("bits", bits).add("acc_bits", acc_bits);
    o.add("mult", mult).add("operand_align", hw::to_string(align)).add("m", std::uint64_t{shape.m}).add("k", std::uint64_t{shape.k}).add("n", std::uint64_t{shape.n});
    o.add("fill", vm["fill"].as<std::string>()).add("seed", seed);
    json_value fault_list = json_value::array();
    for (const auto& f : opt.faults) fault_list.push_back(faults::describe(f));
    o.add("faults", std::uint64_t{opt.faults.size()}).add("fault_list", fault_list);
    if (opt.bug) {
      o.add("inject_bug", std::to_string(opt.bug->cycle) + ":" + std::to_string(opt.bug->row) + ":" +
                              std::to_string(opt.bug->col));
    }
    o.add("match", res.match).add("cycles", res.cycles).add("hung", res.hung);
    o.add("compared_cycles", res.compared_cycles).add("compared_values", res.compared_values);
    if (res.first_mismatch) o.add("first_mismatch", json_mismatch(*res.first_mismatch));
    if (res.match) o.add("outputs_equal", outputs_equal);
    if (reference_match) o.add("reference_match", *reference_match);
    o.add("vcd", json_value(res.vcd_files));
    std::cout << o.str() << std::endl;
  } else {
    std::cout << "rtl          " << entry->name << " (verilated axsa_array, " << rtl_origin << ", multiplier module "
              << entry->mult_module << (align == hw::operand_align::high ? ", operands high" : "") << ") against the "
              << hw::to_string(engine) << " engine\n"
              << "gemm         M=" << shape.m << " K=" << shape.k << " N=" << shape.n << ", " << res.cycles << " cycles\n"
              << "faults       " << opt.faults.size() << (opt.bug ? ", plus a planted model bug" : "") << "\n"
              << "compared     " << res.compared_cycles << " cycles, " << res.compared_values << " values\n";
    if (res.match) {
      std::cout << "result       match" << (res.hung ? " (the job never finished: both sides ran to the watchdog's budget)" : "")
                << "\n";
    } else {
      const auto& mm = *res.first_mismatch;
      std::cout << "result       MISMATCH at cycle " << mm.cycle << ", PE (" << mm.row << "," << mm.col << "), "
                << mm.signal << ": model " << mm.model << ", rtl " << mm.rtl << "\n";
      for (const auto& f : res.vcd_files) std::cout << "vcd          " << f << "\n";
    }
    if (res.match) {
      std::cout << "outputs      " << (outputs_equal ? "model and RTL equal" : "model and RTL differ");
      if (reference_match) std::cout << (*reference_match ? ", reference match" : ", REFERENCE MISMATCH");
      std::cout << "\n";
    }
  }
  return res.match ? 0 : 1;
}

}  // namespace axsa::cli
