// Published figures of EvoApprox multipliers (rtl/evoapprox/published_metrics.csv, embedded at
// configure time), shown beside the metrics axsa computes for the same names.
#pragma once

#include <string>
#include <vector>

namespace axsa::rtl {

struct published_metrics {
  const char* name;
  unsigned bits;
  bool exact;
  double mae, wce, ep_pct, mre_pct;  // absolute MAE and WCE; EP and MRE in percent
  double area_um2, power_mw, delay_ns;  // PDK45 synthesis
};

// nullptr when the name is not in the published table.
const published_metrics* find_published(const std::string& name);
// Every row of the table, in its order.
const std::vector<published_metrics>& all_published();

}  // namespace axsa::rtl
