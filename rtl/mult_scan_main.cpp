// The configure-time tool behind rtl/CMakeLists.txt (rtl/mult_scan.h): reads multipliers.txt or scans an
// EvoApprox folder and writes what it found as CMake commands, which CMake then include()s.
//   mult_scan manifest <multipliers.txt> <rtl/mult folder> <output.cmake>
//   mult_scan evoapprox <folder> <output.cmake>
// On bad input: one line on stderr naming the problem, exit status 1.
#include <fstream>
#include <iostream>
#include <string>

#include "rtl/mult_scan.h"

namespace {

using namespace axsa::rtl::scan;

// A CMake bracket argument; scan_evoapprox_folder skips paths that could close it.
std::string bracket(const std::string& s) { return "[=[" + s + "]=]"; }

int manifest(const std::string& file, const std::string& mult_dir, const std::string& out_path) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw scan_error("cannot be read");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::ofstream out(out_path);
  for (const manifest_entry& e : parse_manifest(text)) {
    const std::string verilog = mult_dir + "/" + e.module + ".v";
    if (!std::ifstream(verilog)) {
      throw scan_error("line " + std::to_string(e.line) + ": '" + e.name + "' names module " + e.module +
                       ", but rtl/mult/" + e.module + ".v does not exist");
    }
    out << "axsa_manifest_entry(" << e.name << " " << e.module << " " << e.bits;
    for (const auto& p : e.params) out << " " << p;
    out << ")\n";
  }
  return out ? 0 : 1;
}

int evoapprox(const std::string& folder, const std::string& out_path) {
  std::ofstream out(out_path);
  for (const evo_file& f : scan_evoapprox_folder(folder)) {
    switch (f.what) {
      case evo_file::action::take:
        out << "axsa_evo_candidate(" << f.base << " " << f.bits << " " << bracket(f.path) << " " << bracket(f.relative)
            << ")\n";
        break;
      case evo_file::action::duplicate: out << "axsa_evo_duplicate()\n"; break;
      case evo_file::action::skip: out << "axsa_evo_skipped(" << bracket(f.relative) << " " << bracket(f.why) << ")\n";
    }
  }
  return out ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  try {
    if (mode == "manifest" && argc == 5) return manifest(argv[2], argv[3], argv[4]);
    if (mode == "evoapprox" && argc == 4) return evoapprox(argv[2], argv[3]);
    std::cerr << "usage: mult_scan manifest <multipliers.txt> <rtl/mult folder> <out.cmake> | "
                 "mult_scan evoapprox <folder> <out.cmake>\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << (argc > 2 ? std::string(argv[2]) + ": " : std::string()) << e.what() << "\n";
    return 1;
  }
}
