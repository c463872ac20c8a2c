// Runs a shell command and captures its exit code, stdout and stderr (for command-line tests).
#pragma once

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

namespace axsa::test {

struct command_result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// stderr goes through a file unique to this call, so tests may run in parallel.
inline command_result run_command(const std::string& cmd, const std::string& dir) {
  command_result r;
  std::string err_file = dir + "axsa_stderr_XXXXXX";
  const int fd = mkstemp(err_file.data());
  if (fd < 0) return r;
  close(fd);
  FILE* p = popen((cmd + " 2>" + err_file).c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream e(err_file);
  std::stringstream s;
  s << e.rdbuf();
  r.err = s.str();
  std::remove(err_file.c_str());
  return r;
}

inline std::size_t count_lines(const std::string& s) {
  std::size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

}  // namespace axsa::test
