// Truncated gap sums of the Markov-chain curve (see mdmsched/markov.hpp).
#include "mdmsched/markov.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace mdmsched {

std::vector<double> markov_gap_sums(const double* delta, std::size_t gaps, std::size_t n, double tol) {
    if (n == 0) throw std::invalid_argument("n must be >= 1");
    if (!(tol >= 0.0) || !std::isfinite(tol)) throw std::invalid_argument("tol must be finite and >= 0");
    gaps = std::min(gaps, n - 1);  // gaps between positions of 1..n are at most n - 1
    // tail[g] = max_{g' >= g} |delta(g')| (1-based g; tail[gaps + 1] = 0): a bound that needs no monotonicity.
    std::vector<double> tail(gaps + 2, 0.0);
    for (std::size_t g = gaps; g >= 1; --g) {
        if (!std::isfinite(delta[g - 1])) throw std::invalid_argument("delta must be finite");
        tail[g] = std::max(tail[g + 1], std::fabs(delta[g - 1]));
    }
    const double threshold = 0.5 * tol * tail[1];
    const double nn = static_cast<double>(n);
    std::vector<double> inverse(gaps + 1, 0.0);  // 1 / (n - g)
    for (std::size_t g = 1; g <= gaps; ++g) inverse[g] = 1.0 / (nn - static_cast<double>(g));
    std::vector<double> out(n + 1, 0.0);
    // Eight sizes m at a time share the gap loop (independent multiply chains, in SIMD registers; an AVX2 clone via
    // target_clones measured 2x slower here, so the baseline SSE2 code is used); the tails are
    // checked every kCheck gaps, and a block runs until all its lanes are below the threshold, so a lane may sum a few
    // more (exact) terms than it needs. Results depend only on (delta, n, tol).
    constexpr std::size_t kCheck = 16;
    using Lanes = double __attribute__((vector_size(8 * sizeof(double))));
    constexpr std::size_t kLanes = sizeof(Lanes) / sizeof(double);
    const Lanes zero = {};
    for (std::size_t m0 = 2; m0 <= n; m0 += kLanes) {
        Lanes ratio, acc = zero, mm, reach;
        for (std::size_t l = 0; l < kLanes; ++l) {
            const double m = static_cast<double>(std::min(m0 + l, n));
            mm[l] = m;
            ratio[l] = m * (m - 1.0) / nn;  // r(1, m)
            reach[l] = nn / (m - 1.0);      // the geometric tail bound's sum, per unit of r(G+1, m)
        }
        for (std::size_t g0 = 1; g0 <= gaps; g0 += kCheck) {
            const std::size_t g1 = std::min(gaps, g0 + kCheck - 1);
            for (std::size_t g = g0; g <= g1; ++g) {
                const double ng = nn - static_cast<double>(g) + 1.0;  // n - g + 1
                acc += delta[g - 1] * ratio;
                // r(g+1, m). The integer factor n-g-m+1 reaches exactly 0 at g = n-m+1, after which ratio stays +-0.
                ratio *= (ng - mm) * inverse[g];
            }
            const Lanes bound = tail[g1 + 1] * ratio * reach;  // tail after g1 is at most this
            bool done = true;
            for (std::size_t l = 0; l < kLanes; ++l) done &= bound[l] <= threshold;
            if (done) break;
        }
        for (std::size_t l = 0; l < kLanes && m0 + l <= n; ++l) out[m0 + l] = acc[l];
    }
    return out;
}

}  // namespace mdmsched
