// Schedule error, argument checks, the plain O(k n^2) DP, and the dispatch between solvers.
#include "mdmsched/riemann.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "riemann_detail.hpp"

namespace mdmsched {

namespace detail {
Solution solve_hull(const double* z, std::size_t n, std::size_t k);
Solution solve_lagrangian(const double* z, std::size_t n, std::size_t k);
Solution min_steps_lagrangian(const double* z, std::size_t n, double eps);
std::vector<double> frontier_hull(const double* z, std::size_t n, std::size_t k_max);
}  // namespace detail

void check_curve(const double* z, std::size_t n) {
    if (n == 0) throw std::invalid_argument("Z must have at least one entry");
    if (n >= static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
        throw std::invalid_argument("Z has " + std::to_string(n) + " entries; at most 2^31 - 2 are supported");
    // Z_1 = I(X_i; nothing) = 0 exactly: the Python layer cleans rounding noise before calling, so a raw caller's
    // non-zero Z_1 is a curve of something else (e.g. entropies passed for a curve).
    if (z[0] != 0.0) throw std::invalid_argument("Z_1 must be 0, got " + std::to_string(z[0]));
    for (std::size_t i = 0; i < n; ++i) {
        if (!std::isfinite(z[i])) throw std::invalid_argument("Z[" + std::to_string(i) + "] is not finite");
        if (i > 0 && z[i] < z[i - 1])
            throw std::invalid_argument("Z must be non-decreasing, but Z[" + std::to_string(i) + "] < Z[" +
                                        std::to_string(i - 1) + "]");
    }
}

static void check_steps(std::size_t n, std::size_t k) {
    if (k < 1 || k > n)
        throw std::invalid_argument("k must satisfy 1 <= k <= n = " + std::to_string(n) + ", got " + std::to_string(k));
}

double breakpoint_error(const double* z, std::size_t n, const std::vector<std::int64_t>& bp) {
    // Non-negative terms accumulated in extended precision and rounded once: the result is within a few ulps of the
    // exact error (min_steps' documented tolerance relies on this).
    long double err = 0.0L;
    for (std::size_t j = 1; j < bp.size(); ++j) {
        const auto start = static_cast<std::size_t>(bp[j - 1]);
        const auto stop = static_cast<std::size_t>(bp[j]);
        for (std::size_t i = start; i < stop && i < n; ++i) err += static_cast<long double>(z[i]) - z[start];
    }
    return static_cast<double>(err);
}

double schedule_error(const double* z, std::size_t n, const std::int64_t* sizes, std::size_t k) {
    check_curve(z, n);
    if (k == 0) throw std::invalid_argument("a schedule needs at least one step");
    std::vector<std::int64_t> bp(k + 1, 0);
    for (std::size_t j = 0; j < k; ++j) {
        if (sizes[j] < 1) throw std::invalid_argument("step sizes must be >= 1, got " + std::to_string(sizes[j]));
        if (sizes[j] > static_cast<std::int64_t>(n) - bp[j])
            throw std::invalid_argument("step sizes sum to more than n = " + std::to_string(n));
        bp[j + 1] = bp[j] + sizes[j];
    }
    if (bp[k] != static_cast<std::int64_t>(n))
        throw std::invalid_argument("step sizes sum to " + std::to_string(bp[k]) + ", not n = " + std::to_string(n));
    return breakpoint_error(z, n, bp);
}

Method resolve_method(std::size_t n, std::size_t k, Method method) {
    if (method != Method::Auto) return method;
    // Measured at n = 65,536 (BENCHMARKS.md): the hull grows ~linearly in k (2.5 ms at k = 4, 10 ms at k = 16) while
    // the penalty search stays ~5-8 ms for any k; the hull also needs a k x n table.
    return (k <= 8 && k * (n + 1) <= (std::size_t{1} << 26)) ? Method::Hull : Method::Lagrangian;
}

std::size_t solve_memory_bytes(std::size_t n, std::size_t k, Method method) {
    method = resolve_method(n, k, method);
    const std::size_t rows = 3 * (n + 1) * sizeof(double);
    if (method == Method::Lagrangian) return rows + 2 * (n + 1) * sizeof(std::int64_t);
    return rows + k * (n + 1) * sizeof(std::int32_t);
}

static Solution solve_naive(const double* z, std::size_t n, std::size_t k) {
    const auto p = detail::prefix_sums(z, n);
    std::vector<double> prev(n + 1, detail::kInf), cur(n + 1, detail::kInf);
    std::vector<std::int32_t> arg(k * (n + 1), -1);
    prev[0] = 0.0;
    for (std::size_t j = 1; j <= k; ++j) {
        std::fill(cur.begin(), cur.end(), detail::kInf);
        // Layer j ends at b in [j, n - (k - j)] so that the remaining steps can each take at least one position.
        for (std::size_t b = j; b <= n - (k - j); ++b) {
            double best = detail::kInf;
            std::size_t best_a = j - 1;
            for (std::size_t a = j - 1; a < b; ++a) {
                const double v = prev[a] + detail::step_cost(z, p, a, b);
                if (v < best) {
                    best = v;
                    best_a = a;
                }
            }
            cur[b] = best;
            arg[(j - 1) * (n + 1) + b] = static_cast<std::int32_t>(best_a);
        }
        std::swap(prev, cur);
    }
    Solution sol;
    sol.breakpoints = detail::backtrack(arg, n, k);
    sol.error = breakpoint_error(z, n, sol.breakpoints);
    return sol;
}

Solution solve(const double* z, std::size_t n, std::size_t k, Method method) {
    check_curve(z, n);
    check_steps(n, k);
    if (k == 1 || k == n) {  // the only schedules: one step, or one token per step
        Solution sol;
        if (k == 1) {
            sol.breakpoints = {0, static_cast<std::int64_t>(n)};
        } else {
            for (std::size_t i = 0; i <= n; ++i) sol.breakpoints.push_back(static_cast<std::int64_t>(i));
        }
        sol.error = breakpoint_error(z, n, sol.breakpoints);
        return sol;
    }
    switch (resolve_method(n, k, method)) {
        case Method::Naive: return solve_naive(z, n, k);
        case Method::Hull: return detail::solve_hull(z, n, k);
        default: return detail::solve_lagrangian(z, n, k);
    }
}

Solution min_steps(const double* z, std::size_t n, double eps) {
    check_curve(z, n);
    if (!(eps >= 0.0) || !std::isfinite(eps)) throw std::invalid_argument("eps must be finite and >= 0");
    return detail::min_steps_lagrangian(z, n, eps);
}

static std::vector<double> frontier_naive(const double* z, std::size_t n, std::size_t k_max) {
    const auto p = detail::prefix_sums(z, n);
    std::vector<double> prev(n + 1, detail::kInf), cur(n + 1, detail::kInf), out;
    prev[0] = 0.0;
    for (std::size_t j = 1; j <= k_max; ++j) {
        std::fill(cur.begin(), cur.end(), detail::kInf);
        for (std::size_t b = j; b <= n; ++b) {
            double best = detail::kInf;
            for (std::size_t a = j - 1; a < b; ++a) best = std::min(best, prev[a] + detail::step_cost(z, p, a, b));
            cur[b] = best;
        }
        out.push_back(cur[n]);
        std::swap(prev, cur);
    }
    return out;
}

std::vector<double> error_frontier(const double* z, std::size_t n, std::size_t k_max, Method method) {
    check_curve(z, n);
    check_steps(n, k_max);
    auto out = method == Method::Naive ? frontier_naive(z, n, k_max) : detail::frontier_hull(z, n, k_max);
    // opt_k >= 0 exactly; the DP values are differences of long-double prefix sums whose rounding can leave them a
    // few ulps of max|Z| * n below 0 where the exact value is 0. Clamp that noise.
    for (double& e : out) e = std::max(e, 0.0);
    return out;
}

}  // namespace mdmsched
