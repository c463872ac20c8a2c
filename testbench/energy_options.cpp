#include "testbench/energy_options.h"

#include <cstdio>

namespace po = boost::program_options;

namespace axsa::cli {

void add_energy_options(po::options_description& desc) {
  desc.add_options()
    ("energy", "estimate the energy of the run from its activity counts (docs/energy.md): per component, in pJ")
    ("energy-table", po::value<std::string>(),
     "energy table CSV (event,size,pj,note; default: the built-in 45 nm table, hw/energy_45nm.csv); implies --energy")
    ("energy-operands", po::value<double>(),
     "weight the multipliers by the run's operand activity: a product with a zero operand costs this share\n"
     "(0..1) of one with two non-zero operands (0: operand isolation); implies --energy")
    ("energy-as", po::value<std::string>(),
     "cost the multipliers as this circuit (a registered name, or an EvoApprox name of the published table that\n"
     "this build need not have) while --mult computes the products: what-if energy; implies --energy");
}

std::optional<energy_request> energy_from_options(const po::variables_map& vm) {
  if (!vm.count("energy") && !vm.count("energy-table") && !vm.count("energy-operands") && !vm.count("energy-as")) {
    return std::nullopt;
  }
  energy_request r;
  if (vm.count("energy-as")) {
    r.cost_as = vm["energy-as"].as<std::string>();
    if (r.cost_as != "exact") (void)rtl::energy_per_product(r.cost_as, 16, hw::energy_table::builtin());  // known?
  }
  if (vm.count("energy-table")) r.table_path = vm["energy-table"].as<std::string>();
  if (vm.count("energy-operands")) {
    r.operand_weighting = true;
    r.zero_operand_share = vm["energy-operands"].as<double>();
    if (!(r.zero_operand_share >= 0 && r.zero_operand_share <= 1)) {
      throw config_error("--energy-operands must be in [0, 1] (got " + std::to_string(r.zero_operand_share) + ")");
    }
  }
  // A bad table is refused before any simulation runs.
  if (!r.table_path.empty()) (void)hw::energy_table::load(r.table_path);
  return r;
}

energy_report estimate(const energy_request& req, const hw::activity& total, const hw::energy_setup& base,
                       const std::string& mult, double units) {
  const hw::energy_table table = req.table_path.empty() ? hw::energy_table::builtin() : hw::energy_table::load(req.table_path);
  energy_report r;
  r.table = table.origin();
  const std::string costed = req.cost_as.empty() ? mult : req.cost_as;
  if (costed != mult) r.costed_as = costed;
  r.mult = rtl::energy_per_product(costed == "exact" ? "" : costed, base.cfg.data_bits, table);
  hw::energy_setup setup = base;
  setup.mult_pj = r.mult.pj;
  setup.operand_weighting = req.operand_weighting;
  setup.zero_operand_share = req.zero_operand_share;
  const hw::energy_breakdown e = hw::estimate_energy(total, setup, table);
  r.per_unit.multipliers = e.multipliers / units;
  r.per_unit.adders = e.adders / units;
  r.per_unit.registers = e.registers / units;
  r.per_unit.buffers = e.buffers / units;
  r.per_unit.offchip = e.offchip / units;
  r.operand_weighting = req.operand_weighting;
  r.zero_share = total.macs ? static_cast<double>(total.zero_macs) / static_cast<double>(total.macs) : 0.0;
  return r;
}

json_object energy_json(const energy_report& r) {
  json_object o;
  o.add("total_pj", r.per_unit.total()).add("array_pj", r.per_unit.array());
  for (const auto& [name, pj] : r.per_unit.components()) o.add(std::string(name) + "_pj", pj);
  o.add("mult_pj_per_product", r.mult.pj).add("mult_bits", r.mult.bits).add("mult_basis", r.mult.basis);
  o.add("zero_operand_macs_share", r.zero_share).add("operand_weighting", r.operand_weighting);
  if (!r.costed_as.empty()) o.add("mult_costed_as", r.costed_as);
  o.add("table", r.table);
  return o;
}

void print_energy(const energy_report& r, const char* unit) {
  const hw::energy_breakdown& e = r.per_unit;
  std::printf("energy       %.4g nJ per %s (array %.4g nJ: multipliers %.4g, adders %.4g, registers %.4g; buffers %.4g; "
              "off-chip %.4g)\n",
              e.total() / 1e3, unit, e.array() / 1e3, e.multipliers / 1e3, e.adders / 1e3, e.registers / 1e3,
              e.buffers / 1e3, e.offchip / 1e3);
  std::printf("             multiplier%s %.4g pJ per product (%s); %.1f %% of MACs have a zero operand%s; table %s\n",
              r.costed_as.empty() ? "" : (" costed as " + r.costed_as + ":").c_str(), r.mult.pj, r.mult.basis.c_str(),
              100 * r.zero_share,
              r.operand_weighting ? " (weighted)" : "", r.table.c_str());
}

}  // namespace axsa::cli
