// A test fixture with a fresh folder per test (removed afterwards) and commands run in it, for tests
// that drive executables and scripts on files of their own.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/support/run_command.h"

namespace axsa::test {

// The whole file, or "" if it cannot be read.
inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class temp_dir_test : public testing::Test {
 protected:
  void SetUp() override {
    std::string templ = testing::TempDir() + "axsa_test_XXXXXX";
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    m_dir = templ + "/";
  }
  void TearDown() override { std::filesystem::remove_all(m_dir); }
  std::string file(const std::string& name) const { return m_dir + name; }
  command_result run(const std::string& cmd) const { return run_command(cmd, m_dir); }

  std::string m_dir;
};

}  // namespace axsa::test
