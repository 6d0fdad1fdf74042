// Left-Riemann error of an unmasking schedule and exact optimal schedules (SPEC §3-4).
//
// A curve is z[0..n-1] = Z_1..Z_n: finite and non-decreasing (the Monge property of the step cost rests on it).
// A schedule is given by breakpoints N_0 = 0 < N_1 < ... < N_k = n or by step sizes s_j = N_j - N_{j-1} >= 1.
// Every function validates its arguments and throws std::invalid_argument; allocation failures surface as
// std::bad_alloc. Only the standard library is used.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace mdmsched {

// Which exact solver to run. Auto picks Hull or Lagrangian by the cost of each.
enum class Method { Auto, Naive, Hull, Lagrangian };

struct Solution {
    double error = 0.0;                     // err(Z, s) in the curve's unit (nats), recomputed from the schedule
    std::vector<std::int64_t> breakpoints;  // N_0 = 0 < N_1 < ... < N_k = n
};

// Throws std::invalid_argument unless z has n >= 1 finite, non-decreasing entries with z[0] == 0 (Z_1 = 0).
void check_curve(const double* z, std::size_t n);

// err(Z, s) = sum_j sum_{i in step j} (Z_i - Z_{first of step j}). O(n).
double schedule_error(const double* z, std::size_t n, const std::int64_t* sizes, std::size_t k);

// Same, from breakpoints N_0..N_k.
double breakpoint_error(const double* z, std::size_t n, const std::vector<std::int64_t>& breakpoints);

// Certified (two-curve) solvers, SPEC §5.3: a band of level curves g_lo <= g <= g_hi in Z-form, heights
// h_i = g_hi_0 - g_hi_{i-1} (finite, non-decreasing) and prefix curve l_i = g_hi_0 - g_lo_{i-1} >= h_i (finite). A
// step revealing positions a+1..b costs U(a, b) = sum_{i=a+2}^{b} (l_i - h_{a+1}), the worst err over the band;
// single-token steps cost 0, and with h == l every function below equals its one-curve counterpart bit for bit.
// Throws std::invalid_argument unless h and l have n >= 1 entries as above.
void check_band(const double* h, const double* l, std::size_t n);

// U(s) = sum_j U(N_{j-1}, N_j). O(n).
double certified_schedule_error(const double* h, const double* l, std::size_t n, const std::int64_t* sizes,
                                std::size_t k);
double certified_breakpoint_error(const double* h, const double* l, std::size_t n,
                                  const std::vector<std::int64_t>& breakpoints);

// argmin U over k-step schedules, min_steps and the frontier of min U: the same algorithms and costs as below.
Solution certified_solve(const double* h, const double* l, std::size_t n, std::size_t k, Method method);
Solution certified_min_steps(const double* h, const double* l, std::size_t n, double eps);
std::vector<double> certified_frontier(const double* h, const double* l, std::size_t n, std::size_t k_max,
                                       Method method);

// Minimum-error schedule with exactly k steps (1 <= k <= n).
//   Naive:      plain DP, O(k n^2) time, O(k n) memory.
//   Hull:       per-layer monotone convex-hull trick, O(k n) time, O(k n) memory (argmin table).
//   Lagrangian: penalty ("Aliens") search with a splice that yields exactly k steps, O(n * iterations), O(n) memory.
Solution solve(const double* z, std::size_t n, std::size_t k, Method method);

// The fewest-step optimal schedule with opt_k <= eps: one penalty search brackets the crossing on the convex hull of
// opt_k, then the exact-k splice. O(n * iterations) like the Lagrangian solver.
Solution min_steps(const double* z, std::size_t n, double eps);

// opt_k for k = 1..k_max in one layered sweep. Naive: O(k_max n^2); otherwise hull: O(k_max n). O(n) memory.
std::vector<double> error_frontier(const double* z, std::size_t n, std::size_t k_max, Method method);

// The solver Auto stands for at this size (Hull for few steps and a small table, else Lagrangian).
Method resolve_method(std::size_t n, std::size_t k, Method method);

// Test hook (issue 28): the breakpoints of one penalized layer, argmin over schedules of U + lambda * steps, as the
// Lagrangian solver computes it: in double precision with its near-tie check (`checked`; empty when the check flagged
// a near tie) or in long double (`checked` false). Throws std::invalid_argument unless (h, l) is a band and lambda is
// finite and >= 0. O(n).
std::vector<std::int64_t> penalized_pass(const double* h, const double* l, std::size_t n, double lambda, bool checked);

// Bytes of scratch memory solve() needs for this method (argmin tables dominate); lets callers refuse early.
std::size_t solve_memory_bytes(std::size_t n, std::size_t k, Method method);

}  // namespace mdmsched
