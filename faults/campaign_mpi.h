// Campaigns over MPI ranks (axsa campaign --mpi, docs/scale-out.md). Rank 0 owns the one database:
// it hands out the pending faults in batches to the ranks that ask, runs faults with its own
// threads meanwhile, and commits every result in transactions, so a killed job resumes (with or
// without MPI) exactly like a single process. The other ranks run their batches on their threads
// (the shortcut engine) and send the results back, asking for the next batch before they run dry.
// Only the main thread of a rank calls MPI. In a build without MPI, session() is a config_error.
#pragma once

#include <cstddef>
#include <exception>
#include <string>

#include "faults/campaign.h"
#include "faults/campaign_db.h"
#include "faults/campaign_runner.h"

namespace axsa::faults::mpi {

bool available();  // built with MPI

// Thrown on a rank other than 0 when the ranks agreed to stop: rank 0 prints the one error line.
struct quiet_failure : std::exception {
  explicit quiet_failure(int c) : code(c) {}
  const char* what() const noexcept override { return "another rank reported the error"; }
  int code;
};

class session {
 public:
  session();   // MPI_Init_thread; config_error in a build without MPI
  ~session();  // MPI_Finalize
  session(const session&) = delete;
  session& operator=(const session&) = delete;

  int rank() const { return m_rank; }
  int size() const { return m_size; }
  int local_size() const { return m_local_size; }  // ranks on this node

  // Collective. Every rank passes its error ("" for none) and exit code (2: bad input, 1: failure).
  // If any rank failed, rank 0 throws the first failing rank's error (config_error for code 2,
  // std::runtime_error else), naming the rank when it is not 0; the others throw quiet_failure.
  void agree(const std::string& error, int code) const;
  // Collective: every rank's campaign configuration must equal rank 0's (same model file, data,
  // golden run), else agree() fails naming the first differing key.
  void check_same_config(const campaign_config& cfg) const;

 private:
  int m_rank = 0, m_size = 1, m_local_size = 1;
};

struct run_options {
  unsigned jobs = 1;       // worker threads per rank
  std::size_t batch = 16;  // faults per request from a rank other than 0
};

// Collective. Rank 0 passes the open campaign database, the other ranks nullptr; every rank its own
// golden reference (the same, checked by check_same_config). On rank 0 returns the faults run and
// the time; a failure anywhere is printed on rank 0 and ends the job with MPI_Abort.
run_report run_pending_faults(const session& s, campaign_db* db, const golden_reference& golden, const run_options& options);

}  // namespace axsa::faults::mpi
