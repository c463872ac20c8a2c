// Shared by the libFuzzer targets (tests/fuzz, docs/fuzzing.md). A target feeds its input to one reader
// and accepts only the ways axsa reports bad input: config_error (a std::invalid_argument) and, for the
// SQLite-backed campaign database, std::runtime_error naming the file. Anything else that escapes (an
// std::out_of_range, std::length_error, std::bad_alloc, ...) is a finding: the target aborts, and
// libFuzzer saves the input. AddressSanitizer and UndefinedBehaviorSanitizer catch the rest.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>
#include <typeinfo>

#include "hw/array_config.h"

namespace axsa::fuzz {

[[noreturn]] inline void finding(const std::string& what) {
  std::fprintf(stderr, "FUZZ FINDING: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

// A rejection must be one line: no line breaks, not empty.
inline void check_message(const std::exception& e) {
  const std::string m = e.what();
  if (m.empty()) finding(std::string("empty error message from ") + typeid(e).name());
  if (m.find('\n') != std::string::npos) finding("error message of more than one line: " + m);
}

// Runs `body`; config_error is the expected rejection, runtime_error too when `runtime_ok`.
template <typename F>
void expect_clean(F&& body, bool runtime_ok = false) {
  try {
    body();
  } catch (const config_error& e) {
    check_message(e);
  } catch (const std::out_of_range& e) {
    finding(std::string("std::out_of_range escaped: ") + e.what());
  } catch (const std::length_error& e) {
    finding(std::string("std::length_error escaped: ") + e.what());
  } catch (const std::runtime_error& e) {
    if (!runtime_ok) finding(std::string("std::runtime_error escaped: ") + e.what());
    check_message(e);
  } catch (const std::exception& e) {
    finding(std::string(typeid(e).name()) + " escaped: " + e.what());
  }
}

}  // namespace axsa::fuzz
