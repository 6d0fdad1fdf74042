// Schedule error, argument checks, the plain O(k n^2) DP, and the dispatch between solvers.
#include "mdmsched/riemann.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "riemann_detail.hpp"

namespace mdmsched {

// Every solver takes a band (h, l) in Z-form (riemann_detail.hpp); the one-curve entry points pass h == l == z.
namespace detail {
Solution solve_hull(const double* h, const double* l, std::size_t n, std::size_t k);
Solution solve_lagrangian(const double* h, const double* l, std::size_t n, std::size_t k);
Solution min_steps_lagrangian(const double* h, const double* l, std::size_t n, double eps);
std::vector<double> frontier_hull(const double* h, const double* l, std::size_t n, std::size_t k_max);
std::vector<std::int64_t> penalized_pass(const double* h, const double* l, std::size_t n, double lambda, bool checked);
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

void check_band(const double* h, const double* l, std::size_t n) {
    check_curve(h, n);
    for (std::size_t i = 0; i < n; ++i) {
        if (!std::isfinite(l[i]))
            throw std::invalid_argument("the prefix curve's entry " + std::to_string(i) + " is not finite");
        if (l[i] < h[i])
            throw std::invalid_argument("the prefix curve must be >= the height curve (g_low <= g_high), but not at " +
                                        std::to_string(i));
    }
}

static void check_steps(std::size_t n, std::size_t k) {
    if (k < 1 || k > n)
        throw std::invalid_argument("k must satisfy 1 <= k <= n = " + std::to_string(n) + ", got " + std::to_string(k));
}

double certified_breakpoint_error(const double* h, const double* l, std::size_t n,
                                  const std::vector<std::int64_t>& bp) {
    // Non-negative terms l_i - h_start (l >= h, h non-decreasing) accumulated in extended precision and rounded once:
    // the result is within a few ulps of the exact error (min_steps' documented tolerance relies on this). A step's
    // first position contributes exactly 0 and is skipped.
    long double err = 0.0L;
    for (std::size_t j = 1; j < bp.size(); ++j) {
        const auto start = static_cast<std::size_t>(bp[j - 1]);
        const auto stop = static_cast<std::size_t>(bp[j]);
        for (std::size_t i = start + 1; i < stop && i < n; ++i) err += static_cast<long double>(l[i]) - h[start];
    }
    return static_cast<double>(err);
}

double breakpoint_error(const double* z, std::size_t n, const std::vector<std::int64_t>& bp) {
    return certified_breakpoint_error(z, z, n, bp);
}

static std::vector<std::int64_t> breakpoints_of(std::size_t n, const std::int64_t* sizes, std::size_t k) {
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
    return bp;
}

double schedule_error(const double* z, std::size_t n, const std::int64_t* sizes, std::size_t k) {
    check_curve(z, n);
    return breakpoint_error(z, n, breakpoints_of(n, sizes, k));
}

double certified_schedule_error(const double* h, const double* l, std::size_t n, const std::int64_t* sizes,
                                std::size_t k) {
    check_band(h, l, n);
    return certified_breakpoint_error(h, l, n, breakpoints_of(n, sizes, k));
}

Method resolve_method(std::size_t n, std::size_t k, Method method) {
    if (method != Method::Auto) return method;
    // Measured at n = 65,536 (BENCHMARKS.md): the hull grows ~linearly in k (2.5 ms at k = 4, 10 ms at k = 16) while
    // the penalty search stays ~5-8 ms for any k; the hull also needs a k x n table.
    return (k <= 8 && k * (n + 1) <= (std::size_t{1} << 26)) ? Method::Hull : Method::Lagrangian;
}

// Saturating products and sums: a request for 2^62 positions must read as "too much", not wrap to a small number.
static std::size_t saturating_mul(std::size_t a, std::size_t b) {
    constexpr std::size_t kMax = std::numeric_limits<std::size_t>::max();
    return (a != 0 && b > kMax / a) ? kMax : a * b;
}

static std::size_t saturating_add(std::size_t a, std::size_t b) {
    constexpr std::size_t kMax = std::numeric_limits<std::size_t>::max();
    return b > kMax - a ? kMax : a + b;
}

std::size_t solve_memory_bytes(std::size_t n, std::size_t k, Method method) {
    method = resolve_method(n, k, method);
    const std::size_t positions = saturating_add(n, 1);
    // Per position: long-double prefix sums and two DP layers, and a hull line (index + three long doubles).
    const std::size_t per_position = 3 * sizeof(detail::Value) + sizeof(std::size_t) + 3 * sizeof(detail::Value);
    const std::size_t rows = saturating_mul(positions, per_position);
    // The penalty search adds its checked double layer (four arrays) and two breakpoint lists.
    if (method == Method::Lagrangian)
        return saturating_add(rows, saturating_mul(positions, 4 * sizeof(double) + 2 * sizeof(std::int64_t)));
    return saturating_add(rows, saturating_mul(saturating_mul(k, positions), sizeof(std::int32_t)));
}

std::vector<std::int64_t> penalized_pass(const double* h, const double* l, std::size_t n, double lambda, bool checked) {
    check_band(h, l, n);
    if (!(lambda >= 0.0) || !std::isfinite(lambda)) throw std::invalid_argument("lambda must be finite and >= 0");
    return detail::penalized_pass(h, l, n, lambda, checked);
}

static Solution solve_naive(const double* h, const double* l, std::size_t n, std::size_t k) {
    const auto p = detail::prefix_sums(l, n);
    std::vector<detail::Value> prev(n + 1, detail::kValueInf), cur(n + 1, detail::kValueInf);
    std::vector<std::int32_t> arg(k * (n + 1), -1);
    prev[0] = 0.0;
    for (std::size_t j = 1; j <= k; ++j) {
        std::fill(cur.begin(), cur.end(), detail::kValueInf);
        // Layer j ends at b in [j, n - (k - j)] so that the remaining steps can each take at least one position.
        for (std::size_t b = j; b <= n - (k - j); ++b) {
            detail::Value best = detail::kValueInf;
            std::size_t best_a = j - 1;
            for (std::size_t a = j - 1; a < b; ++a) {
                const detail::Value v = prev[a] + detail::step_cost(h, l, p, a, b);
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
    sol.error = certified_breakpoint_error(h, l, n, sol.breakpoints);
    return sol;
}

static Solution solve_band(const double* h, const double* l, std::size_t n, std::size_t k, Method method) {
    check_steps(n, k);
    if (k == 1 || k == n) {  // the only schedules: one step, or one token per step
        Solution sol;
        if (k == 1) {
            sol.breakpoints = {0, static_cast<std::int64_t>(n)};
        } else {
            for (std::size_t i = 0; i <= n; ++i) sol.breakpoints.push_back(static_cast<std::int64_t>(i));
        }
        sol.error = certified_breakpoint_error(h, l, n, sol.breakpoints);
        return sol;
    }
    switch (resolve_method(n, k, method)) {
        case Method::Naive: return solve_naive(h, l, n, k);
        case Method::Hull: return detail::solve_hull(h, l, n, k);
        default: return detail::solve_lagrangian(h, l, n, k);
    }
}

Solution solve(const double* z, std::size_t n, std::size_t k, Method method) {
    check_curve(z, n);
    return solve_band(z, z, n, k, method);
}

Solution certified_solve(const double* h, const double* l, std::size_t n, std::size_t k, Method method) {
    check_band(h, l, n);
    return solve_band(h, l, n, k, method);
}

static void check_eps(double eps) {
    if (!(eps >= 0.0) || !std::isfinite(eps)) throw std::invalid_argument("eps must be finite and >= 0");
}

Solution min_steps(const double* z, std::size_t n, double eps) {
    check_curve(z, n);
    check_eps(eps);
    return detail::min_steps_lagrangian(z, z, n, eps);
}

Solution certified_min_steps(const double* h, const double* l, std::size_t n, double eps) {
    check_band(h, l, n);
    check_eps(eps);
    return detail::min_steps_lagrangian(h, l, n, eps);
}

static std::vector<double> frontier_naive(const double* h, const double* l, std::size_t n, std::size_t k_max) {
    const auto p = detail::prefix_sums(l, n);
    detail::PathErrors paths(h, l, n);
    std::vector<detail::Value> prev(n + 1, detail::kValueInf), cur(n + 1, detail::kValueInf);
    std::vector<std::int32_t> arg(n + 1, 0);
    std::vector<double> out;
    prev[0] = 0.0;
    for (std::size_t j = 1; j <= k_max; ++j) {
        std::fill(cur.begin(), cur.end(), detail::kValueInf);
        for (std::size_t b = j; b <= n; ++b) {
            detail::Value best = detail::kValueInf;
            for (std::size_t a = j - 1; a < b; ++a) {
                const detail::Value v = prev[a] + detail::step_cost(h, l, p, a, b);
                if (v < best) {
                    best = v;
                    arg[b] = static_cast<std::int32_t>(a);
                }
            }
            cur[b] = best;
        }
        paths.advance(arg.data(), j, n);
        out.push_back(paths.at(n));
        std::swap(prev, cur);
    }
    return out;
}

static std::vector<double> frontier_band(const double* h, const double* l, std::size_t n, std::size_t k_max,
                                         Method method) {
    check_steps(n, k_max);
    // Each value is the error of the path the DP chose, summed in double-double (detail::PathErrors), not the DP value.
    return method == Method::Naive ? frontier_naive(h, l, n, k_max) : detail::frontier_hull(h, l, n, k_max);
}

std::vector<double> error_frontier(const double* z, std::size_t n, std::size_t k_max, Method method) {
    check_curve(z, n);
    return frontier_band(z, z, n, k_max, method);
}

std::vector<double> certified_frontier(const double* h, const double* l, std::size_t n, std::size_t k_max,
                                       Method method) {
    check_band(h, l, n);
    return frontier_band(h, l, n, k_max, method);
}

}  // namespace mdmsched
