// axsa gemm: one random GEMM on the cycle-accurate array, checked against a plain C++ reference.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <limits>
#include <memory>
#include <optional>

#include <systemc>

#include "hw/aligned_multiplier.h"
#include "hw/cycle_model.h"
#include "hw/systolic_array.h"
#include "hw/fault.h"
#include "hw/trace_writer.h"
#include "hw/vcd_writer.h"
#include "rtl/mult_registry.h"
#include "sw/gemm_workload.h"
#include "testbench/commands.h"
#include "testbench/energy_options.h"
#include "testbench/json.h"
#include "testbench/options.h"

namespace po = boost::program_options;

namespace axsa::cli {

namespace {

// Top level of the run: the array and a host thread that starts the GEMM and times it.
class gemm_testbench : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(gemm_testbench);
  gemm_testbench(const sc_core::sc_module_name& name, const hw::array_config& cfg, hw::gemm_job job)
      : sc_core::sc_module(name), array("array", cfg), m_job(job) {
    SC_THREAD(host);
  }

  hw::systolic_array array;
  std::uint64_t cycles = 0;
  double seconds = 0;
  sc_core::sc_time sim_time;

 private:
  void host() {
    const auto t0 = std::chrono::steady_clock::now();
    cycles = array.run(m_job);
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    sim_time = sc_core::sc_time_stamp();
    // Nothing is left to happen: sc_start returns by itself.
  }

  hw::gemm_job m_job;
};

// Every module below the top level, one a line, indented by depth: name, kind, and for a multiplier
// its circuit and for a saboteur its faults.
void print_module(std::ostream& os, const sc_core::sc_object& obj, unsigned depth) {
  if (dynamic_cast<const sc_core::sc_module*>(&obj) == nullptr) return;
  os << std::string(2 * depth, ' ') << obj.name() << " (" << obj.kind() << ")";
  if (const auto* m = dynamic_cast<const hw::multiplier_unit*>(&obj)) {
    os << " circuit " << (m->circuit() ? m->circuit()->name() : std::string("exact"));
  }
  if (const auto* s = dynamic_cast<const hw::saboteur*>(&obj)) {
    for (const auto& f : s->fault_list()) os << " fault " << faults::describe(f);
  }
  if (const auto* s = dynamic_cast<const hw::acc_saboteur*>(&obj)) {
    for (const auto& f : s->fault_list()) os << " fault " << faults::describe(f);
  }
  if (const auto* s = dynamic_cast<const hw::valid_saboteur*>(&obj)) {
    for (const auto& f : s->fault_list()) os << " fault " << faults::describe(f);
  }
  os << "\n";
  for (const sc_core::sc_object* child : obj.get_child_objects()) print_module(os, *child, depth + 1);
}

void print_hierarchy(std::ostream& os) {
  for (const sc_core::sc_object* top : sc_core::sc_get_top_level_objects()) print_module(os, *top, 0);
}

}  // namespace

int run_gemm(const std::vector<std::string>& args) {
  po::options_description desc("Options");
  desc.add_options()
    ("help,h", "show this help")
    ("m", po::value<long long>()->default_value(64), "rows of the activation matrix M")
    ("k", po::value<long long>()->default_value(256), "reduction length K")
    ("n", po::value<long long>()->default_value(64), "columns of the weight matrix N")
    ("seed", po::value<long long>()->default_value(1), "random seed for the operands")
    ("fill", po::value<std::string>()->default_value("random"), "operands: random (full signed W-bit range), min or max")
    ("engine", po::value<std::string>()->default_value("fast"),
     "cycle engine: fast (flat arrays, vectorised) or structural (a pe module per PE with its multiplier and\n"
     "saboteur submodules); both give the same registers every cycle")
    ("dataflow", po::value<std::string>()->default_value("os"),
     "os (output-stationary: each PE accumulates one output) or ws (weight-stationary: each PE holds one\n"
     "weight, partial sums flow down the columns; docs/cycle-model.md)")
    ("print-hierarchy", "print the SystemC module hierarchy of the array (PEs, multipliers, saboteurs) and exit")
    ("quantum", po::value<long long>()->default_value(1024), "cycles between SystemC kernel synchronisations")
    ("clock-ns", po::value<double>()->default_value(1.0, "1"), "clock period in ns (SystemC time per cycle), 0.001..1000000 in whole ps")
    ("vcd", po::value<std::string>(), "write a VCD of PE links and accumulators to this file")
    ("vcd-cycles", po::value<std::string>(), "only cycles FIRST:LAST (inclusive) in the VCD")
    ("vcd-region", po::value<std::string>(), "only PEs in rows R0:R1 and columns C0:C1 in the VCD, as R0:R1,C0:C1")
    ("trace", po::value<std::string>(),
     "write the array's state cycle by cycle as JSON to this file (either engine): per PE its west/north operands,\n"
     "east/south registers, accumulator and MAC enable, per column the drain output (scripts/draw_array.py draws it)")
    ("trace-cycles", po::value<std::string>(), "only cycles FIRST:LAST (inclusive) in the trace")
    ("trace-region", po::value<std::string>(), "only PEs in rows R0:R1 and columns C0:C1 in the trace, as R0:R1,C0:C1")
    ("fault", po::value<std::vector<std::string>>(),
     "inject a fault, site:kind:row:col:bit[:first[:last]] (docs/faults.md); repeatable. The result is then\n"
     "compared with the fault-free reference and the changed outputs are counted")
    ("json", "print one JSON object instead of text");
  add_energy_options(desc);
  const array_options array;  // the defaults of hw::array_config
  add_array_options(desc, array);
  po::variables_map vm;
  if (!parse_command("gemm",
                     "Runs one GEMM out[MxN] = act[MxK] * weight[KxN] on an RxC output-stationary array and checks\n"
                     "it against a plain C++ reference. Exit 0 when the result matches, 1 when it does not\n"
                     "(with --fault: exit 0, and the outputs the faults changed are counted).",
                     desc, args, vm)) {
    return 0;
  }

  hw::array_config cfg = array_from_options(vm);
  cfg.acc_bits = static_cast<unsigned>(ranged(vm, "acc-bits", 2, 64));
  cfg.clock_period_ns = vm["clock-ns"].as<double>();
  cfg.engine = hw::parse_engine(vm["engine"].as<std::string>());
  cfg.dataflow = hw::parse_dataflow(vm["dataflow"].as<std::string>());
  cfg.validate();
  hw::gemm_shape shape;
  shape.m = ranged(vm, "m", 1, 1 << 24);
  shape.k = ranged(vm, "k", 1, 1 << 24);
  shape.n = ranged(vm, "n", 1, 1 << 24);
  shape.validate();
  const auto seed = ranged(vm, "seed", 0, std::numeric_limits<long long>::max());
  const auto quantum = ranged(vm, "quantum", 1, 1ll << 40);
  const sw::operand_fill fill = sw::parse_fill(vm["fill"].as<std::string>());
  const bool json = vm.count("json") > 0;
  const std::optional<energy_request> energy = energy_from_options(vm);
  const std::string mult_name = vm["mult"].as<std::string>();
  const rtl::eval_mode eval = rtl::parse_eval_mode(vm["mult-eval"].as<std::string>());
  // The array's multiplier, and the reference's: the behavioural C++ model of an in-house design,
  // the verilated model itself for circuits without one (EvoApprox), plain products for exact.
  std::shared_ptr<const hw::multiplier> array_mult, reference_mult;
  std::string reference_kind = "exact";
  if (mult_name != "exact") {
    array_mult = rtl::make_multiplier(mult_name, cfg.data_bits, eval, cfg.align);
    reference_mult = hw::align_multiplier(rtl::make_behavioural(rtl::find_entry(mult_name)), cfg.data_bits, cfg.align);
    reference_kind = "behavioural";
    if (!reference_mult) {
      reference_mult = rtl::make_multiplier(mult_name, cfg.data_bits, rtl::eval_mode::rtl, cfg.align);
      reference_kind = "rtl";
    }
  }

  std::pair<std::uint64_t, std::uint64_t> window{0, UINT64_MAX};
  if (vm.count("vcd-cycles")) window = parse_span("vcd-cycles", vm["vcd-cycles"].as<std::string>());
  region reg{0, cfg.rows - 1, 0, cfg.cols - 1};
  if (vm.count("vcd-region")) reg = parse_region("vcd-region", vm["vcd-region"].as<std::string>(), cfg.rows, cfg.cols);
  if (!vm.count("vcd") && (vm.count("vcd-cycles") || vm.count("vcd-region"))) {
    throw config_error("--vcd-cycles and --vcd-region need --vcd FILE");
  }
  std::pair<std::uint64_t, std::uint64_t> trace_window{0, UINT64_MAX};
  if (vm.count("trace-cycles")) trace_window = parse_span("trace-cycles", vm["trace-cycles"].as<std::string>());
  region trace_reg{0, cfg.rows - 1, 0, cfg.cols - 1};
  if (vm.count("trace-region")) {
    trace_reg = parse_region("trace-region", vm["trace-region"].as<std::string>(), cfg.rows, cfg.cols);
  }
  if (!vm.count("trace") && (vm.count("trace-cycles") || vm.count("trace-region"))) {
    throw config_error("--trace-cycles and --trace-region need --trace FILE");
  }

  const sw::gemm_workload work = sw::make_workload(shape, cfg.data_bits, fill, seed);
  std::vector<std::int64_t> out(shape.m * shape.n, 0);
  hw::gemm_job job{shape, work.act.data(), work.weight.data(), out.data()};

  std::vector<faults::fault> fault_list;
  if (vm.count("fault")) {
    for (const auto& spec : vm["fault"].as<std::vector<std::string>>()) fault_list.push_back(faults::parse_fault(spec));
  }
  for (const auto& f : fault_list) {
    if (f.site == faults::fault_site::control) {
      throw config_error("--fault " + faults::describe(f) +
                         ": control faults can stop a job from ever finishing, which needs the host's watchdog; run "
                         "them with axsa campaign --site control (docs/faults.md)");
    }
  }
  // The structural engine gets a saboteur module wherever a fault acts.
  cfg.saboteurs = hw::plan_for(fault_list);
  gemm_testbench tb("top", cfg, job);
  tb.array.set_quantum(quantum);
  tb.array.set_multiplier(array_mult.get());
  // How the array really evaluates products: --mult-eval table has no table above 12 bits, where the
  // verilated model runs in the slot (or native products, for the exact design).
  const std::string evaluation = tb.array.engine().evaluation();
  const std::string eval_used = evaluation == "slot" ? "rtl" : evaluation;
  tb.array.engine().set_faults(fault_list);
  if (vm.count("print-hierarchy")) {
    print_hierarchy(std::cout);
    return 0;
  }
  std::unique_ptr<hw::vcd_writer> vcd;
  if (vm.count("vcd")) {
    vcd = std::make_unique<hw::vcd_writer>(vm["vcd"].as<std::string>(), tb.array.views(reg.r0, reg.r1, reg.c0, reg.c1),
                                           cfg.clock_period_ns, window.first, window.second);
    tb.array.add_cycle_observer([w = vcd.get()](const hw::array_engine& core) { w->sample(core.total_cycles()); });
  }
  std::unique_ptr<hw::trace_writer> trace;
  if (vm.count("trace")) {
    trace = std::make_unique<hw::trace_writer>(
        vm["trace"].as<std::string>(), cfg, hw::dataflow(cfg, shape),
        hw::trace_writer::region{trace_reg.r0, trace_reg.r1, trace_reg.c0, trace_reg.c1}, fault_list,
        trace_window.first, trace_window.second);
    tb.array.add_cycle_observer([w = trace.get()](const hw::array_engine& core) { w->sample(core); });
  }
  sc_core::sc_start();
  if (vcd) vcd->close();
  if (trace) trace->close();

  const std::vector<std::int64_t> expected = sw::reference_gemm(work, cfg.acc_bits, reference_mult.get());
  std::size_t mismatches = 0;
  std::size_t first_bad = 0;
  for (std::size_t i = out.size(); i-- > 0;) {
    if (out[i] != expected[i]) {
      ++mismatches;
      first_bad = i;
    }
  }
  const bool match = mismatches == 0;
  // With an approximate multiplier: how far the array's outputs are from exact products.
  struct error_summary {
    std::size_t differ = 0;
    double mean_abs = 0, max_abs = 0;
  };
  std::optional<error_summary> exact_error;
  if (mult_name != "exact") {
    const std::vector<std::int64_t> exact = sw::reference_gemm(work, cfg.acc_bits, nullptr);
    error_summary e;
    for (std::size_t i = 0; i < out.size(); ++i) {
      const double d = std::abs(static_cast<double>(out[i]) - static_cast<double>(exact[i]));
      e.differ += d != 0;
      e.mean_abs += d;
      e.max_abs = std::max(e.max_abs, d);
    }
    e.mean_abs /= static_cast<double>(out.size());
    exact_error = e;
  }
  const std::uint64_t formula = hw::gemm_cycles(shape, cfg);
  const double util = hw::utilization(shape, cfg.rows, cfg.cols, tb.cycles);
  const double pe_cycles = static_cast<double>(tb.cycles) * cfg.rows * cfg.cols;
  const double rate = tb.seconds > 0 ? pe_cycles / tb.seconds : 0.0;
  // The array alone: no bus, so no off-chip traffic; the operand and result buffers at their TLM sizes.
  std::optional<energy_report> energy_per_gemm;
  if (energy) {
    hw::energy_setup setup;
    setup.cfg = cfg;
    energy_per_gemm = estimate(*energy, tb.array.engine().counts(), setup, mult_name, 1.0);
  }

  if (json) {
    json_object o;
    o.add("rows", cfg.rows).add("cols", cfg.cols).add("bits", cfg.data_bits).add("acc_bits", cfg.acc_bits);
    o.add("m", std::uint64_t{shape.m}).add("k", std::uint64_t{shape.k}).add("n", std::uint64_t{shape.n});
    o.add("seed", seed).add("fill", vm["fill"].as<std::string>());
    o.add("engine", hw::to_string(cfg.engine));
    o.add("mult", mult_name).add("mult_eval", eval_used).add("reference", reference_kind);
    o.add("operand_align", hw::to_string(cfg.align));
    o.add("dataflow", hw::to_string(cfg.dataflow));
    o.add("folds", hw::dataflow(cfg, shape).folds());
    o.add("cycles", tb.cycles).add("cycles_formula", formula);
    o.add("sim_time_ns", tb.sim_time.to_seconds() * 1e9);
    o.add("utilization", util).add("wall_seconds", tb.seconds).add("pe_cycles_per_second", rate);
    o.add("match", match).add("mismatches", std::uint64_t{mismatches});
    o.add("faults_injected", std::uint64_t{fault_list.size()});
    if (exact_error) {
      json_object eo;
      eo.add("differ", std::uint64_t{exact_error->differ}).add("mean_abs", exact_error->mean_abs);
      eo.add("max_abs", exact_error->max_abs);
      o.add("exact_error", eo);
    }
    if (energy_per_gemm) {
      const hw::activity& a = tb.array.engine().counts();
      json_object ao;
      ao.add("macs", a.macs).add("zero_macs", a.zero_macs).add("act_reg_writes", a.act_reg_writes);
      ao.add("weight_reg_writes", a.weight_reg_writes).add("acc_writes", a.acc_writes).add("drain_moves", a.drain_moves);
      ao.add("act_buffer_reads", a.act_buffer_reads).add("weight_buffer_reads", a.weight_buffer_reads);
      ao.add("out_buffer_writes", a.out_buffer_writes).add("out_buffer_reads", a.out_buffer_reads);
      o.add("activity", ao);
      o.add("energy", energy_json(*energy_per_gemm));
    }
    std::cout << o.str() << std::endl;
  } else {
    std::cout << "array        " << cfg.rows << "x" << cfg.cols << ", W=" << cfg.data_bits << ", A=" << cfg.acc_bits
              << ", multiplier " << mult_name << " (" << eval_used
              << (cfg.align == hw::operand_align::high ? ", operands high" : "") << "), " << hw::to_string(cfg.engine)
              << " engine"
              << "\n"
              << "gemm         M=" << shape.m << " K=" << shape.k << " N=" << shape.n << " ("
              << hw::dataflow(cfg, shape).folds() << " folds, " << hw::to_string(cfg.dataflow) << ")\n"
              << "cycles       " << tb.cycles << " (formula " << formula << ")\n"
              << "utilization  " << util * 100 << " %\n"
              << "speed        " << rate / 1e6 << " M PE-cycles/s (" << tb.seconds << " s)\n"
              << "result       " << (match ? "match" : fault_list.empty() ? "MISMATCH" : "differs") << " (reference: "
              << reference_kind << (fault_list.empty() ? "" : ", fault-free") << ")\n";
    if (exact_error) {
      std::cout << "vs exact     " << exact_error->differ << " of " << out.size() << " outputs differ from exact products;"
                << " mean |error| " << exact_error->mean_abs << ", max " << exact_error->max_abs << "\n";
    }
    if (!fault_list.empty()) {
      std::cout << "faults       " << fault_list.size() << " injected; " << mismatches << " of " << out.size()
                << " outputs differ from the fault-free result\n";
    }
    if (energy_per_gemm) {
      std::cout << std::flush;
      print_energy(*energy_per_gemm, "GEMM");
    }
    if (!match && fault_list.empty()) {
      std::cout << "             " << mismatches << " of " << out.size() << " outputs differ; first at m="
                << first_bad / shape.n << " n=" << first_bad % shape.n << ": got " << out[first_bad] << ", expected "
                << expected[first_bad] << "\n";
    }
  }
  // With faults a difference is the point of the run, not a failure of the model.
  return match || !fault_list.empty() ? 0 : 1;
}

}  // namespace axsa::cli
