// Closed-loop policy tables (SPEC §5.4): one backward DP in double-double, divide-and-conquer per layer.
#include "mdmsched/closed_loop.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>

#include "mdmsched/riemann.hpp"  // check_curve
#include "riemann_detail.hpp"

namespace mdmsched {
namespace {

using detail::Twofold;

void check_arguments(const double* z, std::size_t n, std::size_t k) {
    check_curve(z, n);
    if (k < 1 || k > n)
        throw std::invalid_argument("k must be in [1, n] = [1, " + std::to_string(n) + "], got " + std::to_string(k));
    if (n >= static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
        throw std::length_error("closed-loop policy: n does not fit the int32 count table");
}

// The two tables with their fixed entries: j == 0 (no pass left) and the states with j >= n - N (one token a step).
ClosedLoopPolicy empty_tables(std::size_t n, std::size_t k) {
    ClosedLoopPolicy out;
    out.n = n;
    out.k = k;
    const std::size_t width = k + 1;
    out.count.assign((n + 1) * width, 0);
    out.error.assign((n + 1) * width, 0.0);
    for (std::size_t N = 0; N < n; ++N) {
        out.error[N * width] = std::numeric_limits<double>::infinity();
        for (std::size_t j = std::max<std::size_t>(1, n - N); j <= k; ++j) out.count[N * width + j] = 1;
    }
    return out;
}

// Double-double prefix sums Q_b = z[0] + ... + z[b-1] and the step cost
// c(a, b) = (Q_b - Q_{a+1}) - (b - a - 1) z[a]: ~106 bits, so a step over a flat stretch costs exactly 0 and a 1-ulp
// tie is a tie (in long double, rounding noise ~2^-64 TC broke exact ties unevenly and with them the Monge order
// the divide-and-conquer search relies on).
class Costs {
public:
    Costs(const double* z, std::size_t n) : z_(z), q_(n + 1) {
        for (std::size_t i = 0; i < n; ++i) q_[i + 1] = q_[i] + Twofold{z[i], 0.0};
    }
    Twofold operator()(std::size_t a, std::size_t b) const {
        if (b <= a + 1) return {};  // a single-token step costs exactly 0
        return (q_[b] + -q_[a + 1]) + -detail::two_product(static_cast<double>(b - a - 1), z_[a]);
    }

private:
    const double* z_;
    std::vector<Twofold> q_;
};

bool less(Twofold x, Twofold y) { return (x + -y).hi < 0.0; }

// One layer's search: candidates c(N, M) + V_{j-1}(M), leftmost minimiser over a column range.
struct Layer {
    const Costs& cost;
    const std::vector<Twofold>& prev;  // V_{j-1}(M)

    std::size_t argmin(std::size_t N, std::size_t lo, std::size_t hi, Twofold* best) const {
        std::size_t arg = lo;
        *best = cost(N, lo) + prev[lo];
        for (std::size_t M = lo + 1; M <= hi; ++M) {
            const Twofold v = cost(N, M) + prev[M];
            if (less(v, *best)) {
                *best = v;
                arg = M;
            }
        }
        return arg;
    }
};

// Rows N in [row_lo, row_hi], columns limited to [col_lo, col_hi] (the leftmost argmin is non-decreasing in N
// because the cost is Monge): O(n log n) per layer.
void divide(const Layer& layer, std::size_t row_lo, std::size_t row_hi, std::size_t col_lo, std::size_t col_hi,
            std::vector<Twofold>& cur, std::vector<std::size_t>& arg) {
    // An explicit stack keeps the recursion depth off the call stack (log n deep anyway, but n may be large).
    struct Task {
        std::size_t row_lo, row_hi, col_lo, col_hi;
    };
    std::vector<Task> stack{{row_lo, row_hi, col_lo, col_hi}};
    while (!stack.empty()) {
        const Task t = stack.back();
        stack.pop_back();
        if (t.row_lo > t.row_hi) continue;
        const std::size_t mid = t.row_lo + (t.row_hi - t.row_lo) / 2;
        const std::size_t lo = std::max(t.col_lo, mid + 1);
        Twofold best;
        const std::size_t a = layer.argmin(mid, lo, t.col_hi, &best);
        cur[mid] = best;
        arg[mid] = a;
        if (mid > t.row_lo) stack.push_back({t.row_lo, mid - 1, t.col_lo, a});
        stack.push_back({mid + 1, t.row_hi, a, t.col_hi});
    }
}

template <bool Naive>
ClosedLoopPolicy build(const double* z, std::size_t n, std::size_t k) {
    check_arguments(z, n, k);
    ClosedLoopPolicy out = empty_tables(n, k);
    const std::size_t width = k + 1;
    const Costs cost(z, n);
    // V_{j-1} and V_j; states with j >= n - N (one token a step) are exactly 0, and V_0 is used only at N = n.
    std::vector<Twofold> prev(n + 1), cur(n + 1);
    std::vector<std::size_t> arg(n + 1, 0);
    for (std::size_t j = 1; j < std::min(k + 1, n); ++j) {
        // Rows 0..n-j-1 need the search, over columns M <= n-j+1 (from M, j - 1 passes must still fit).
        std::fill(cur.begin(), cur.end(), Twofold{});
        const Layer layer{cost, prev};
        const std::size_t rows = n - j - 1, cols = n - j + 1;
        if (j == 1) {  // V_0 is finite only at N = n: one step reveals the rest
            for (std::size_t N = 0; N <= rows; ++N) {
                arg[N] = n;
                cur[N] = cost(N, n);
            }
        } else if (Naive) {
            for (std::size_t N = 0; N <= rows; ++N) arg[N] = layer.argmin(N, N + 1, cols, &cur[N]);
        } else {
            divide(layer, 0, rows, 1, cols, cur, arg);
        }
        for (std::size_t N = 0; N <= rows; ++N) {
            out.count[N * width + j] = static_cast<std::int32_t>(arg[N] - N);
            out.error[N * width + j] = std::max(0.0, cur[N].hi + cur[N].lo);  // rounded once, never below 0
        }
        std::swap(prev, cur);
    }
    return out;
}

}  // namespace

std::size_t closed_loop_memory_bytes(std::size_t n, std::size_t k) {
    const std::size_t entries = (n + 1) * (k + 1);
    return entries * (sizeof(std::int32_t) + sizeof(double)) + (n + 1) * (sizeof(std::size_t) + 3 * sizeof(Twofold));
}

ClosedLoopPolicy closed_loop_policy(const double* z, std::size_t n, std::size_t k) { return build<false>(z, n, k); }

ClosedLoopPolicy closed_loop_policy_naive(const double* z, std::size_t n, std::size_t k) {
    return build<true>(z, n, k);
}

}  // namespace mdmsched
