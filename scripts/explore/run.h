// Runs of the program, several at a time (run.cc). Each run: stdin /dev/null,
// stdout and stderr into memory files (no pipe to drain, and a grandchild
// that keeps them open does not hold the run up), its own process group,
// killed as a group once the program has ended or its time is up.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "scripts/explore/explore.h"

namespace explore {

struct Job {
  uint64_t seed = 0;
  std::vector<std::string> env;  // NAME=value added to the pool's environment
  size_t tag = 0;                // the caller's
};

struct Finished {
  Job job;
  RunResult result;
};

class Pool {
 public:
  // `env` is the environment of every run; `dump_signal` is sent to a run
  // past its timeout, so that ptshim prints where its threads are. When
  // `*interrupted` becomes set (SIGINT, SIGTERM), waiting kills every run
  // and exits with status 130.
  Pool(std::vector<std::string> program, std::vector<std::string> env, double timeout_s,
       int dump_signal, const volatile sig_atomic_t* interrupted);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // Starts a run; false (with errno) if it could not be started.
  bool start(const Job& job);
  size_t running() const { return children_.size(); }
  // Waits for one run to end (the pool must not be empty).
  Finished wait_one();
  void kill_all();  // every run's process group, then reaps them

 private:
  struct Child {
    Job job;
    pid_t pid;
    int pidfd, out_fd, err_fd;
    double started, deadline;
    bool dumped = false, timed_out = false;
  };
  Finished finish(Child& c);

  std::vector<std::string> program_, env_;
  double timeout_s_;
  int dump_signal_;
  const volatile sig_atomic_t* interrupted_;
  std::map<pid_t, Child> children_;
};

double now_seconds();  // CLOCK_MONOTONIC

}  // namespace explore
