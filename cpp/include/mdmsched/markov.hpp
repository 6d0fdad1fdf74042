// Gap sums for the information curve of a stationary Markov chain (SPEC §5, "Structured families"), in nats.
#pragma once

#include <cstddef>
#include <vector>

namespace mdmsched {

// out[m] = sum_{g >= 1} delta[g-1] * r(g, m) for m = 0..n, where r(g, m) = (n-g) C(n-g-1, m-2) / C(n, m) is the
// expected number of consecutive pairs at gap g among m uniformly random positions of n (r(1, m) = m(m-1)/n,
// r(g+1, m) = r(g, m) (n-g-m+1)/(n-g)), and delta[g-1] = H(X_{1+g} | X_1) - H(pi) for g = 1..gaps (zero beyond).
//
// Each m's sum stops at the first gap G after which the tail is provably below tol/2 * max|delta|: the tail is at most
// max_{g > G}|delta(g)| * r(G+1, m) * n/(m-1) because r(g+1, m)/r(g, m) <= 1 - (m-1)/n. Curves built from these
// sums (Z_i = e_1 - e_i + e_{i-1}) are within tol * max|delta| of the untruncated sum entry by entry. The weight of
// gap g decays like (1 - g/n)^(m-1), so each m needs O(n log(1/tol) / m) gaps: O(n log n log(1/tol)) in all, whatever
// the chain's mixing time. tol = 0 sums every gap (O(n * gaps)). Throws std::invalid_argument on bad arguments.
std::vector<double> markov_gap_sums(const double* delta, std::size_t gaps, std::size_t n, double tol);

}  // namespace mdmsched
