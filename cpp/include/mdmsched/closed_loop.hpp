// Closed-loop schedules (SPEC §5.4): the optimal first step from every state "N revealed, j passes left".
//
// One backward DP over the suffixes of the curve z[0..n-1] = Z_1..Z_n gives every state at once:
//   V_0(n) = 0,  V_j(N) = min_{1 <= c <= n-N-j+1} [ c(N, N+c) + V_{j-1}(N+c) ],  c(a, b) = sum_{i=a+1}^{b} (Z_i -
//   Z_{a+1}),
// and count(N, j) = the smallest minimiser c (ties broken towards the smaller first step). States with more passes
// than masked positions (j > n - N) take one token per step: count 1, error 0. Only the standard library is used.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace mdmsched {

// Tables of shape (n + 1) x (k + 1), row-major, entry [N * (k + 1) + j] for 0 <= N <= n revealed, 0 <= j <= k passes
// left. count is 0 where no step exists (N == n or j == 0); error is the optimal remaining error (the chosen path's
// error, summed in double-double and rounded once), 0 at N == n and +inf at j == 0 < n - N.
struct ClosedLoopPolicy {
    std::size_t n = 0;
    std::size_t k = 0;
    std::vector<std::int32_t> count;
    std::vector<double> error;
};

// Bytes the two tables take: (n + 1)(k + 1)(4 + 8), plus O(n) scratch. Lets callers refuse before allocating.
std::size_t closed_loop_memory_bytes(std::size_t n, std::size_t k);

// The policy for 1 <= k <= n. Per layer a divide-and-conquer argmin over the Monge cost (leftmost minimiser, which
// is monotone in N): O(k n log n) time. Throws std::invalid_argument on a bad curve or k, std::length_error when
// n exceeds the int32 counts.
ClosedLoopPolicy closed_loop_policy(const double* z, std::size_t n, std::size_t k);

// The same tables by the plain O(k n^2) DP (the reference the fast path must equal entry for entry).
ClosedLoopPolicy closed_loop_policy_naive(const double* z, std::size_t n, std::size_t k);

}  // namespace mdmsched
