#include "rtl/array/array_cache.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <stdexcept>

#include "hw/array_config.h"
#include "rtl/array/array_sources.h"
#include "rtl/mult_registry.h"

namespace fs = std::filesystem;

namespace axsa::rtl {

namespace {

constexpr const char* manifest_magic = "axsa-rtl-array 1";

std::string env_or(const char* var, const char* fallback) {
  const char* v = std::getenv(var);
  return v && *v ? v : fallback;
}
std::string verilator_exe() { return env_or("AXSA_VERILATOR", AXSA_VERILATOR_EXE); }
std::string compiler_exe() { return env_or("AXSA_CXX", AXSA_CXX_COMPILER); }

// FNV-1a, 64 bits: names the entry and checks the object against the manifest. Not a defence
// against tampering, which a cache on the user's own disk does not need; it catches truncated and
// overwritten files.
struct fnv1a {
  std::uint64_t h = 0xcbf29ce484222325ull;
  void add(const void* data, std::size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ull;
  }
  void add(const std::string& s) {
    add(s.data(), s.size());
    add("\0", 1);
  }
  std::string hex() const {
    std::ostringstream os;
    os << std::hex << std::setw(16) << std::setfill('0') << h;
    return os.str();
  }
};

std::string file_hash(const std::string& path, std::uintmax_t& size) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  fnv1a f;
  std::array<char, 1 << 16> buf{};
  size = 0;
  while (in) {
    in.read(buf.data(), buf.size());
    const auto got = static_cast<std::size_t>(in.gcount());
    f.add(buf.data(), got);
    size += got;
  }
  return f.hex();
}

// First line of `cmd`'s standard output ("" when it cannot run).
std::string first_output_line(const std::string& cmd) {
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return "";
  std::array<char, 512> line{};
  std::string out = std::fgets(line.data(), line.size(), p) ? line.data() : "";
  pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

std::string quoted(const std::string& s) {
  std::string q = "'";
  for (char ch : s) q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return q + "'";
}

// Starts argv with stdout and stderr appended to `log`; the child's pid, or -1.
pid_t spawn_logged(const std::vector<std::string>& argv, const std::string& log) {
  {
    std::ofstream l(log, std::ios::app);
    for (const auto& a : argv) l << quoted(a) << ' ';
    l << '\n';
  }
  // Everything the child needs is prepared before fork(): after it, only async-signal-safe calls.
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = fork();
  if (pid != 0) return pid;
  const int fd = open(log.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd >= 0) {
    dup2(fd, 1);
    dup2(fd, 2);
  }
  execvp(args[0], args.data());
  _exit(127);
}

bool succeeded(pid_t pid) {
  if (pid < 0) return false;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return false;
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// Runs argv with stdout and stderr appended to `log`; true on exit status 0.
bool run_logged(const std::vector<std::string>& argv, const std::string& log) { return succeeded(spawn_logged(argv, log)); }

// Runs the commands, at most `jobs` at a time, each logging to its own file, appended to `log`
// afterwards in order; true when all succeed.
bool run_all_logged(const std::vector<std::vector<std::string>>& commands, unsigned jobs, const std::string& log) {
  std::vector<pid_t> running;
  bool ok = true;
  for (std::size_t i = 0; i < commands.size(); ++i) {
    if (running.size() == jobs) {
      ok = succeeded(running.front()) && ok;
      running.erase(running.begin());
    }
    running.push_back(spawn_logged(commands[i], log + "." + std::to_string(i)));
  }
  for (pid_t pid : running) ok = succeeded(pid) && ok;
  std::ofstream out(log, std::ios::app);
  for (std::size_t i = 0; i < commands.size(); ++i) {
    const std::string part = log + "." + std::to_string(i);
    std::ifstream in(part);
    out << in.rdbuf();
    in.close();
    std::remove(part.c_str());
  }
  return ok;
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out) throw std::runtime_error("cannot write '" + path.string() + "'");
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (std::size_t at = 0; (at = s.find(from, at)) != std::string::npos; at += to.size()) s.replace(at, from.size(), to);
  return s;
}

// Everything one configuration's build depends on.
struct plan {
  array_request req;
  const mult_entry* mult = nullptr;
  std::string config;       // "RxCxWxA:mult"
  std::string model_name;   // "array_RxCxW_aA_mult", as array.cmake names it
  std::string mult_params;  // the AXSA_MULT_PARAMS define
  std::string key;          // hex
  fs::path root;            // <cache>/rtl-arrays
  fs::path entry;           // root / "<config>-<key>"
};

plan make_plan(const array_request& req) {
  if (req.rows < 1 || req.rows > hw::array_config::max_dim || req.cols < 1 || req.cols > hw::array_config::max_dim) {
    throw config_error("RTL array: rows and columns must be 1.." + std::to_string(hw::array_config::max_dim));
  }
  if (req.data_bits < 2 || req.data_bits > 16) throw config_error("RTL array: data width must be 2..16");
  if (req.acc_bits < 2 || req.acc_bits > 64) throw config_error("RTL array: accumulator width must be 2..64");
  plan p;
  p.req = req;
  p.mult = &find_entry(req.mult);
  if (p.mult->bits < req.data_bits) {
    throw config_error("RTL array: " + req.mult + " has " + std::to_string(p.mult->bits) + "-bit operands, narrower than the " +
                       std::to_string(req.data_bits) + "-bit data");
  }
  const std::string dims = std::to_string(req.rows) + "x" + std::to_string(req.cols) + "x" + std::to_string(req.data_bits);
  p.config = dims + "x" + std::to_string(req.acc_bits) + ":" + req.mult;
  p.model_name = "array_" + dims + "_a" + std::to_string(req.acc_bits) + "_" + req.mult;
  if (std::string(p.mult->origin) == "axsa") {
    p.mult_params = "#(.N(N)";
    std::istringstream params(p.mult->params);
    for (std::string kv; params >> kv;) {
      const auto eq = kv.find('=');
      if (eq != std::string::npos) p.mult_params += ",." + kv.substr(0, eq) + "(" + kv.substr(eq + 1) + ")";
    }
    p.mult_params += ")";
  }
  fnv1a k;
  k.add(embedded_array_sources_hash());
  k.add(p.mult->hash);
  k.add(p.config);
  k.add(p.mult_params);
  k.add(first_output_line(quoted(verilator_exe()) + " --version 2>/dev/null"));
  k.add(first_output_line(quoted(compiler_exe()) + " --version 2>/dev/null"));
  p.key = k.hex();
  const std::string dir = cache_directory();
  if (!dir.empty()) {
    p.root = fs::path(dir) / "rtl-arrays";
    p.entry = p.root / (dims + "x" + std::to_string(req.acc_bits) + "_" + req.mult + "-" + p.key);
  }
  return p;
}

std::string manifest_text(const plan& p, std::uintmax_t size, const std::string& hash) {
  std::ostringstream os;
  os << manifest_magic << "\nconfig " << p.config << "\nkey " << p.key << "\nobject model.so\nsize " << size
     << "\nfnv1a64 " << hash << "\n";
  return os.str();
}

// "" when the entry is complete and intact, else why not.
std::string check_entry(const plan& p) {
  std::ifstream in(p.entry / "manifest");
  if (!in) return "no manifest";
  std::stringstream text;
  text << in.rdbuf();
  std::uintmax_t size = 0;
  const std::string hash = file_hash((p.entry / "model.so").string(), size);
  if (hash.empty()) return "no model.so";
  if (text.str() != manifest_text(p, size, hash)) return "model.so does not match its manifest";
  return "";
}

void build_entry(const plan& p, std::ostream& progress) {
  std::random_device rd;
  const fs::path tmp = p.root / (".build-" + p.entry.filename().string() + "-" + std::to_string(getpid()) + "-" +
                                 std::to_string(rd()));
  fs::create_directories(tmp / "src");
  fs::create_directories(tmp / "include" / "rtl" / "array");
  const std::string log = (tmp / "build.log").string();
  progress << "axsa: RTL array " << p.config << " was not verilated into this build; verilating and compiling it into "
           << p.entry.string() << " (first use, about a minute) ..." << std::endl;
  const auto t0 = std::chrono::steady_clock::now();

  std::string wrapper;
  for (const auto& [name, text] : embedded_array_sources()) {
    if (name == "array_wrapper.cpp.in") wrapper = text;
    else if (name == "rtl_array.h") write_text(tmp / "include" / "rtl" / "array" / name, text);
    else write_text(tmp / "src" / name, text);
  }
  const fs::path mult_src = p.mult->source;
  if (!fs::is_regular_file(mult_src)) {
    fs::remove_all(tmp);
    throw std::runtime_error("RTL array " + p.config + ": the multiplier's Verilog '" + mult_src.string() +
                             "' (recorded at build time) no longer exists");
  }
  wrapper = replace_all(wrapper, "@AXSA_ARRAY_NAME@", p.model_name);
  wrapper = replace_all(wrapper, "@AXSA_ARRAY_R@", std::to_string(p.req.rows));
  wrapper = replace_all(wrapper, "@AXSA_ARRAY_C@", std::to_string(p.req.cols));
  wrapper = replace_all(wrapper, "@AXSA_ARRAY_W@", std::to_string(p.req.data_bits));
  wrapper = replace_all(wrapper, "@AXSA_ARRAY_A@", std::to_string(p.req.acc_bits));
  std::ostringstream exports;
  exports << "\n// Added by the on-demand build (rtl/array/array_cache.cpp): what dlopen looks up.\n"
          << "extern \"C\" __attribute__((visibility(\"default\"))) const axsa::rtl::array_entry* axsa_rtl_array_entry() {\n"
          << "  static const axsa::rtl::array_entry entry{\"" << p.config << "\", " << p.req.rows << ", " << p.req.cols
          << ", " << p.req.data_bits << ", " << p.req.acc_bits << ", \"" << p.mult->name << "\", \"" << p.mult->module
          << "\", " << p.mult->bits << ", &axsa::rtl::make_" << p.model_name << "};\n  return &entry;\n}\n"
          << "extern \"C\" __attribute__((visibility(\"default\"))) const char* axsa_rtl_array_key() { return \"" << p.key
          << "\"; }\n";
  write_text(tmp / "wrapper.cpp", wrapper + exports.str());

  auto fail = [&](const std::string& what) {
    const fs::path kept = p.root / (p.entry.filename().string() + ".failed.log");
    std::error_code ec;
    fs::copy_file(log, kept, fs::copy_options::overwrite_existing, ec);
    fs::remove_all(tmp, ec);
    return std::runtime_error("RTL array " + p.config + ": " + what + " failed (log: " + kept.string() + ")");
  };

  std::vector<std::string> vl = {verilator_exe(), "--cc", "-O3", "-Wno-fatal", "--x-assign", "fast", "--x-initial", "fast"};
  if (std::string(p.mult->origin) != "axsa") {
    vl.push_back("-Wno-DECLFILENAME");
    vl.push_back("-Wno-UNUSEDSIGNAL");
  }
  for (const auto& [g, v] : {std::pair<const char*, unsigned>{"R", p.req.rows}, {"C", p.req.cols}, {"W", p.req.data_bits},
                            {"A", p.req.acc_bits}, {"N", p.mult->bits}}) {
    vl.push_back(std::string("-G") + g + "=" + std::to_string(v));
  }
  vl.push_back(std::string("-DAXSA_MULT_MODULE=") + p.mult->module);
  vl.push_back("-DAXSA_MULT_PARAMS=" + p.mult_params);
  for (const std::string& a : std::vector<std::string>{"--prefix", "V" + p.model_name, "--top-module", "axsa_array", "--Mdir", (tmp / "obj").string(),
                              (tmp / "src" / "axsa_array.v").string(), (tmp / "src" / "axsa_pe.v").string(), mult_src.string()}) {
    vl.push_back(a);
  }
  if (!run_logged(vl, log)) throw fail("verilating");

  const std::string vroot = first_output_line(quoted(verilator_exe()) + " --getenv VERILATOR_ROOT 2>/dev/null");
  if (vroot.empty()) throw fail("finding Verilator's include directory");
  const fs::path vinc = fs::path(vroot) / "include";
  // -O1: the lockstep, not the model, bounds coverify's speed, and -O1 compiles in about half the time of -O2.
  // Each source compiles on its own, two at a time (or AXSA_BUILD_JOBS), then one link.
  const std::vector<std::string> flags = {"-std=c++17", "-O1", "-fPIC", "-fvisibility=hidden", "-pthread", "-faligned-new", "-w",
                                          "-DVM_COVERAGE=0", "-DVM_SC=0", "-DVM_TRACE=0", "-DVM_TRACE_FST=0",
                                          "-DVM_TRACE_VCD=0", "-I" + (tmp / "include").string(),
                                          "-I" + (tmp / "obj").string(), "-I" + vinc.string(),
                                          "-I" + (vinc / "vltstd").string()};
  std::vector<std::string> sources = {(tmp / "wrapper.cpp").string()};
  std::vector<std::string> generated;
  for (const auto& f : fs::directory_iterator(tmp / "obj")) {
    if (f.path().extension() == ".cpp") generated.push_back(f.path().string());
  }
  std::sort(generated.begin(), generated.end());
  sources.insert(sources.end(), generated.begin(), generated.end());
  for (const char* rt : {"verilated.cpp", "verilated_dpi.cpp", "verilated_threads.cpp"}) sources.push_back((vinc / rt).string());
  std::vector<std::vector<std::string>> compiles;
  std::vector<std::string> link = {compiler_exe(), "-shared", "-pthread", "-o", (tmp / "model.so").string()};
  for (std::size_t i = 0; i < sources.size(); ++i) {
    const std::string object = (tmp / "obj" / ("axsa_" + std::to_string(i) + ".o")).string();
    std::vector<std::string> cmd = {compiler_exe()};
    cmd.insert(cmd.end(), flags.begin(), flags.end());
    cmd.insert(cmd.end(), {"-c", sources[i], "-o", object});
    compiles.push_back(cmd);
    link.push_back(object);
  }
  // Verilator's runtime uses std::atomic; clang, unlike gcc, leaves some of it to libatomic (Verilator's own
  // verilated.mk links it the same way).
  link.push_back("-latomic");
  const long jobs = std::strtol(env_or("AXSA_BUILD_JOBS", "2").c_str(), nullptr, 10);
  if (!run_all_logged(compiles, static_cast<unsigned>(std::clamp(jobs, 1L, 64L)), log)) throw fail("compiling");
  if (!run_logged(link, log)) throw fail("linking");

  // The manifest last, then the whole directory into place in one rename.
  std::uintmax_t size = 0;
  const std::string hash = file_hash((tmp / "model.so").string(), size);
  write_text(tmp / "manifest.tmp", manifest_text(p, size, hash));
  fs::rename(tmp / "manifest.tmp", tmp / "manifest");
  fs::remove_all(tmp / "obj");
  fs::remove_all(tmp / "src");
  fs::rename(tmp, p.entry);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  progress << "axsa: built RTL array " << p.config << " in " << std::fixed << std::setprecision(1) << s << " s" << std::endl;
}

// Loads an intact entry; "" on success (entry set), else why it could not.
std::string load_entry(const plan& p, const array_entry*& entry) {
  void* handle = dlopen((p.entry / "model.so").c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) return dlerror();
  using entry_fn = const array_entry* (*)();
  using key_fn = const char* (*)();
  auto get_entry = reinterpret_cast<entry_fn>(dlsym(handle, "axsa_rtl_array_entry"));
  auto get_key = reinterpret_cast<key_fn>(dlsym(handle, "axsa_rtl_array_key"));
  if (!get_entry || !get_key) return "model.so lacks its entry points";
  if (p.key != get_key()) return "model.so was built for another key";
  entry = get_entry();
  return "";
}

// Holds an exclusive lock on a file for its lifetime.
class file_lock {
 public:
  file_lock(const fs::path& path, const std::string& waiting, std::ostream& progress)
      : m_fd(open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)) {
    if (m_fd < 0) throw std::runtime_error("cannot open the lock file '" + path.string() + "'");
    if (flock(m_fd, LOCK_EX | LOCK_NB) == 0) return;
    progress << waiting << std::endl;
    while (flock(m_fd, LOCK_EX) != 0) {
      if (errno != EINTR) throw std::runtime_error("cannot lock '" + path.string() + "'");
    }
  }
  ~file_lock() { close(m_fd); }
  file_lock(const file_lock&) = delete;
  file_lock& operator=(const file_lock&) = delete;

 private:
  int m_fd;
};

}  // namespace

std::string array_cache_entry(const array_request& req) { return make_plan(req).entry.string(); }

array_lookup array_on_demand(const array_request& req, std::ostream& progress) {
  if (const array_entry* e = find_array(req.rows, req.cols, req.data_bits, req.acc_bits, req.mult)) {
    return {e, array_origin::built_in, ""};
  }
  const plan p = make_plan(req);
  // Within one process, one load per entry.
  static std::mutex mutex;
  static std::map<std::string, const array_entry*> loaded;
  const std::lock_guard<std::mutex> guard(mutex);
  if (auto it = loaded.find(p.entry.string()); it != loaded.end()) return {it->second, array_origin::cache_hit, p.entry.string()};
  if (p.root.empty()) {
    throw std::runtime_error("RTL array " + p.config + " is not built in and there is no cache directory to build it in "
                             "(set AXSA_CACHE_DIR)");
  }
  std::error_code ec;
  fs::create_directories(p.root, ec);
  if (ec) throw std::runtime_error("cannot create the cache directory '" + p.root.string() + "': " + ec.message());
  const file_lock lock(p.root / (p.entry.filename().string() + ".lock"),
                       "axsa: waiting for another process that is building RTL array " + p.config, progress);
  // Holding the lock, nobody else builds this entry: leftovers of a killed build can go.
  std::vector<fs::path> leftovers;
  for (const auto& f : fs::directory_iterator(p.root, ec)) {
    if (f.path().filename().string().rfind(".build-" + p.entry.filename().string() + "-", 0) == 0) leftovers.push_back(f.path());
  }
  for (const auto& f : leftovers) fs::remove_all(f, ec);

  array_lookup found{nullptr, array_origin::cache_hit, p.entry.string()};
  std::string problem = fs::exists(p.entry) ? check_entry(p) : std::string("absent");
  if (problem.empty()) problem = load_entry(p, found.entry);
  if (!problem.empty()) {
    if (problem != "absent") {
      progress << "axsa: cache entry " << p.entry.string() << " is damaged (" << problem << "); rebuilding it" << std::endl;
    }
    fs::remove_all(p.entry);
    build_entry(p, progress);
    found.origin = array_origin::built_now;
    if (const std::string again = load_entry(p, found.entry); !again.empty()) {
      throw std::runtime_error("RTL array " + p.config + ": cannot load the object just built (" + again + ")");
    }
  }
  loaded[p.entry.string()] = found.entry;
  return found;
}

}  // namespace axsa::rtl
