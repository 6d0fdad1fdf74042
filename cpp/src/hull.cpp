// Layered DP with the monotone convex-hull trick: O(n) per layer because c(a, b) is linear in b with slope -h_{a+1},
// non-increasing in a (SPEC §4, §5.3), and queries b arrive in increasing order.
#include <vector>

#include "mdmsched/riemann.hpp"
#include "riemann_detail.hpp"

namespace mdmsched::detail {

// Fills cur[b] = D_j(b) = min_{a<b} prev[a] + c(a, b) for b in [lo, hi]; records argmins in arg_row if given.
static void hull_layer(MonotoneHull& hull, const std::vector<Value>& prev, std::vector<Value>& cur, std::size_t first_a,
                       std::size_t lo, std::size_t hi, std::int32_t* arg_row) {
    hull.reset();
    std::size_t next_a = first_a;
    for (std::size_t b = lo; b <= hi; ++b) {
        for (; next_a < b; ++next_a)
            if (prev[next_a] < kValueInf) hull.add(next_a, prev[next_a]);
        Value value = kValueInf;
        const std::size_t a = hull.empty() ? first_a : hull.query(b, &value);
        cur[b] = value;
        if (arg_row) arg_row[b] = static_cast<std::int32_t>(a);
    }
}

Solution solve_hull(const double* h, const double* l, std::size_t n, std::size_t k) {
    const auto p = prefix_sums(l, n);
    MonotoneHull hull(h, l, p);
    std::vector<Value> prev(n + 1, kValueInf), cur(n + 1, kValueInf);
    std::vector<std::int32_t> arg(k * (n + 1), -1);
    prev[0] = 0.0;
    for (std::size_t j = 1; j <= k; ++j) {
        std::fill(cur.begin(), cur.end(), kValueInf);
        hull_layer(hull, prev, cur, j - 1, j, n - (k - j), arg.data() + (j - 1) * (n + 1));
        std::swap(prev, cur);
    }
    Solution sol;
    sol.breakpoints = backtrack(arg, n, k);
    sol.error = certified_breakpoint_error(h, l, n, sol.breakpoints);
    return sol;
}

std::vector<double> frontier_hull(const double* h, const double* l, std::size_t n, std::size_t k_max) {
    const auto p = prefix_sums(l, n);
    MonotoneHull hull(h, l, p);
    PathErrors paths(h, l, n);
    std::vector<Value> prev(n + 1, kValueInf), cur(n + 1, kValueInf);
    std::vector<std::int32_t> arg(n + 1, 0);
    std::vector<double> out;
    out.reserve(k_max);
    prev[0] = 0.0;
    for (std::size_t j = 1; j <= k_max; ++j) {
        std::fill(cur.begin(), cur.end(), kValueInf);
        hull_layer(hull, prev, cur, j - 1, j, n, arg.data());
        paths.advance(arg.data(), j, n);
        out.push_back(paths.at(n));
        std::swap(prev, cur);
    }
    return out;
}

}  // namespace mdmsched::detail
