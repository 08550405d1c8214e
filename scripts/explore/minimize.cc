// The search of explore --minimize: ddmin (Zeller and Hildebrandt, 2002)
// over the preemptions a failing run kept. A set "fails" when the run that
// takes only those preemptions (skipping the others) fails the same way.
// The empty set is tried first (many failures need no timer preemption at
// all); then the set is cut into n pieces, each piece tried, then each
// complement, and n doubles when neither fails. Candidates of one step are
// tested in batches, in order, and the first failing one wins, so the result
// does not depend on how many run at once. Sets already tested are not rerun.
#include <algorithm>
#include <set>

#include "scripts/explore/explore.h"

namespace explore {

std::vector<uint64_t> complement(uint64_t count, const std::vector<uint64_t>& kept) {
  std::vector<uint64_t> out;
  std::set<uint64_t> keep(kept.begin(), kept.end());
  for (uint64_t i = 1; i <= count; ++i) {
    if (!keep.contains(i)) out.push_back(i);
  }
  return out;
}

std::vector<uint64_t> minimize_preemptions(const std::vector<uint64_t>& all, size_t batch,
                                           const FailsBatch& fails) {
  std::map<std::vector<uint64_t>, bool> known;
  bool spent = false;
  // The index of the first failing candidate, or -1 (also when the budget ran out).
  auto first_failing = [&](const std::vector<std::vector<uint64_t>>& candidates) -> long {
    for (size_t start = 0; start < candidates.size() && !spent; start += batch) {
      size_t end = std::min(candidates.size(), start + std::max<size_t>(batch, 1));
      std::vector<std::vector<uint64_t>> ask;
      for (size_t i = start; i < end; ++i) {
        if (!known.contains(candidates[i])) ask.push_back(candidates[i]);
      }
      if (!ask.empty()) {
        std::vector<bool> answers = fails(ask);
        if (answers.size() < ask.size()) spent = true;
        for (size_t i = 0; i < answers.size(); ++i) known[ask[i]] = answers[i];
      }
      for (size_t i = start; i < end; ++i) {
        auto it = known.find(candidates[i]);
        if (it != known.end() && it->second) return static_cast<long>(i);
      }
    }
    return -1;
  };

  std::vector<uint64_t> current = all;
  std::sort(current.begin(), current.end());
  if (current.empty() || first_failing({{}}) == 0) return {};
  size_t n = 2;
  while (current.size() >= 2 && !spent) {
    n = std::min(n, current.size());
    std::vector<std::vector<uint64_t>> pieces(n), candidates;
    for (size_t i = 0; i < current.size(); ++i)
      pieces[i * n / current.size()].push_back(current[i]);
    candidates = pieces;
    if (n > 2) {
      for (size_t i = 0; i < n; ++i) {
        std::vector<uint64_t> rest;
        for (size_t j = 0; j < n; ++j) {
          if (j != i) rest.insert(rest.end(), pieces[j].begin(), pieces[j].end());
        }
        std::sort(rest.begin(), rest.end());
        candidates.push_back(std::move(rest));
      }
    }
    long hit = first_failing(candidates);
    if (hit >= 0 && static_cast<size_t>(hit) < n) {
      current = candidates[static_cast<size_t>(hit)];
      n = 2;
    } else if (hit >= 0) {
      current = candidates[static_cast<size_t>(hit)];
      n = std::max<size_t>(n - 1, 2);
    } else if (n < current.size()) {
      n = std::min(current.size(), n * 2);
    } else {
      break;
    }
  }
  return current;
}

}  // namespace explore
