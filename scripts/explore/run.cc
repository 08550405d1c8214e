// The pool of runs. A run is posix_spawn'ed (vfork speed) into a process
// group of its own; the pool waits on pidfds with poll, whose timeout is the
// nearest deadline. Past its deadline a run gets the dump signal (ptshim's
// thread dump shows where it hangs) and, half a second later, SIGKILL to its
// group. A run that ended is still a zombie when its group is killed, so the
// group's id cannot have been reused.
#include "scripts/explore/run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace explore {

namespace {
constexpr double kDumpGraceSeconds = 0.5;
constexpr off_t kKeptOutput = off_t{8} << 20;  // the last 8 MiB of each stream

std::string read_all(int fd) {
  struct stat st;
  std::string s;
  if (fstat(fd, &st) != 0 || st.st_size == 0) return s;
  off_t from = std::max<off_t>(0, st.st_size - kKeptOutput);
  s.resize(static_cast<size_t>(st.st_size - from));
  size_t got = 0;
  while (got < s.size()) {
    ssize_t n = pread(fd, s.data() + got, s.size() - got, from + static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  s.resize(got);
  return s;
}

std::vector<char*> pointers(std::vector<std::string>& words) {
  std::vector<char*> p;
  for (std::string& w : words) p.push_back(w.data());
  p.push_back(nullptr);
  return p;
}
}  // namespace

double now_seconds() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

Pool::Pool(std::vector<std::string> program, std::vector<std::string> env, double timeout_s,
           int dump_signal, const volatile sig_atomic_t* interrupted)
    : program_(std::move(program)),
      env_(std::move(env)),
      timeout_s_(timeout_s),
      dump_signal_(dump_signal),
      interrupted_(interrupted) {}

Pool::~Pool() { kill_all(); }

bool Pool::start(const Job& job) {
  int out = memfd_create("explore-stdout", MFD_CLOEXEC);
  int err = memfd_create("explore-stderr", MFD_CLOEXEC);
  if (out < 0 || err < 0) {
    if (out >= 0) close(out);
    if (err >= 0) close(err);
    return false;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out, 1);
  posix_spawn_file_actions_adddup2(&actions, err, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<std::string> argv = program_, envp = env_;
  envp.insert(envp.end(), job.env.begin(), job.env.end());
  std::vector<char*> argv_p = pointers(argv), envp_p = pointers(envp);
  pid_t pid;
  int rc = posix_spawnp(&pid, argv_p[0], &actions, &attr, argv_p.data(), envp_p.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    close(out);
    close(err);
    errno = rc;
    return false;
  }
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {  // not waitable with the others: end it
    int saved = errno;
    kill(-pid, SIGKILL);
    while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    close(out);
    close(err);
    errno = saved;
    return false;
  }
  double t = now_seconds();
  children_.emplace(pid, Child{job, pid, pidfd, out, err, t, t + timeout_s_});
  return true;
}

Finished Pool::finish(Child& c) {
  kill(-c.pid, SIGKILL);  // what the program left behind in its group
  Finished f;
  f.job = c.job;
  f.result.seed = c.job.seed;
  int status = 0;
  while (waitpid(c.pid, &status, 0) < 0 && errno == EINTR) {
  }
  f.result.wait_status = status;
  f.result.timed_out = c.timed_out;
  f.result.seconds = now_seconds() - c.started;
  f.result.out = read_all(c.out_fd);
  f.result.err = read_all(c.err_fd);
  close(c.out_fd);
  close(c.err_fd);
  if (c.pidfd >= 0) close(c.pidfd);
  return f;
}

Finished Pool::wait_one() {
  for (;;) {
    std::vector<pollfd> fds;
    std::vector<pid_t> pids;
    double nearest = INFINITY;
    for (auto& [pid, c] : children_) {
      fds.push_back({c.pidfd, POLLIN, 0});
      pids.push_back(pid);
      nearest = std::min(nearest, c.deadline);
    }
    double wait = nearest - now_seconds();
    int ms = wait <= 0 ? 0 : static_cast<int>(std::min(wait * 1000 + 1, 60000.0));
    int n = poll(fds.data(), fds.size(), ms);
    if (n < 0) n = 0;
    if (*interrupted_) {
      kill_all();
      fputs("\nptshim explore: interrupted\n", stderr);
      exit(130);
    }
    for (size_t i = 0; n > 0 && i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      auto it = children_.find(pids[i]);
      Finished f = finish(it->second);
      children_.erase(it);
      return f;
    }
    double t = now_seconds();
    for (auto& [pid, c] : children_) {
      if (t < c.deadline) continue;
      c.timed_out = true;
      if (!c.dumped) {
        c.dumped = true;
        kill(pid, dump_signal_);
        c.deadline = t + kDumpGraceSeconds;
      } else {
        kill(-pid, SIGKILL);
        c.deadline = t + 60;  // reaped when the pidfd says so
      }
    }
  }
}

void Pool::kill_all() {
  for (auto& [pid, c] : children_) {
    kill(-pid, SIGKILL);
    finish(c);
  }
  children_.clear();
}

}  // namespace explore
