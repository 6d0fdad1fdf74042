// Shared pieces of the schedule solvers: prefix sums and the one-step cost c(a, b). Internal header.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace mdmsched::detail {

constexpr double kInf = std::numeric_limits<double>::infinity();

// DP values D_j(b) are kept in extended precision too: in double, two schedules whose errors differ by one ulp of a
// curve entry (a 1-ulp tie) compare equal once D ~ TC is rounded, and methods then disagree on opt_k (issue 19).
using Value = long double;
constexpr Value kValueInf = std::numeric_limits<Value>::infinity();

// Prefix sums are kept in extended precision: c(a, b) subtracts two prefix sums that can be ~n times larger than
// the step's error, and double precision would lose up to log10(n) of the error's digits to that cancellation.
using Prefix = std::vector<long double>;

// P_b = z[0] + ... + z[b-1], b = 0..n.
inline Prefix prefix_sums(const double* z, std::size_t n) {
    Prefix p(n + 1, 0.0L);
    for (std::size_t i = 0; i < n; ++i) p[i + 1] = p[i] + z[i];
    return p;
}

// Every solver runs on a band in Z-form (SPEC §5.3): step heights h (non-decreasing; the Monge property rests on it)
// and the curve l >= h whose prefix sums p the costs use. One curve is the band h == l (the same array).
//
// c(a, b) = P_b - P_{a+1} - (b - a - 1) h_{a+1}: the worst-case error of one step revealing positions a+1..b. It is
// evaluated as P_b - P_a - (b - a) h_{a+1} + (h_{a+1} - l_{a+1}) so that the one-curve cost is bit for bit today's
// P_b - P_a - (b - a) Z_{a+1} (the last term is exactly 0 there).
template <typename Real>
inline Real step_cost(const double* h, const double* l, const std::vector<Real>& p, std::size_t a, std::size_t b) {
    return (p[b] - p[a]) - static_cast<Real>(b - a) * h[a] + (static_cast<Real>(h[a]) - l[a]);
}

// Follows an argmin table (rows j = 1..k, row stride n+1) back from (k, n) to breakpoints N_0..N_k.
inline std::vector<std::int64_t> backtrack(const std::vector<std::int32_t>& arg, std::size_t n, std::size_t k) {
    std::vector<std::int64_t> bp(k + 1);
    std::size_t b = n;
    for (std::size_t j = k; j >= 1; --j) {
        bp[j] = static_cast<std::int64_t>(b);
        b = static_cast<std::size_t>(arg[(j - 1) * (n + 1) + b]);
    }
    bp[0] = 0;
    return bp;
}

// Hand-rolled lower envelope of lines y = D(a) + c(a, x) for queries x increasing and a added in increasing order
// (slope -h_{a+1} non-increasing), so each line is pushed and popped once: O(1) amortised per operation.
// Real is the precision of the prefix sums and of the DP values (long double: see Value).
template <typename Real>
class BasicMonotoneHull {
public:
    BasicMonotoneHull(const double* h, const double* l, const std::vector<Real>& p) : h_(h), l_(l), p_(p) {
        lines_.reserve(p.size());
    }

    void reset() {
        lines_.clear();
        front_ = 0;
    }

    // Adds the line of split point a whose prefix value is d = D(a).
    void add(std::size_t a, Real d) {
        const Line line{a, d, -static_cast<Real>(h_[a]),
                        d - p_[a] + static_cast<Real>(a) * h_[a] + (static_cast<Real>(h_[a]) - l_[a])};
        while (!lines_.empty() && lines_.back().slope == line.slope) {
            if (lines_.back().intercept <= line.intercept) return;  // equal slope: the lower line wins everywhere
            lines_.pop_back();
        }
        while (lines_.size() >= 2 && useless(lines_[lines_.size() - 2], lines_.back(), line)) lines_.pop_back();
        lines_.push_back(line);
        if (front_ >= lines_.size()) front_ = lines_.size() - 1;
    }

    bool empty() const { return lines_.empty(); }

    // Best split a for query x (x must not decrease between calls) and its value D(a) + c(a, x).
    std::size_t query(std::size_t x, Real* value) {
        Real best = evaluate(lines_[front_], x);
        while (front_ + 1 < lines_.size()) {
            const Real next = evaluate(lines_[front_ + 1], x);
            if (next > best) break;
            best = next;
            ++front_;
        }
        *value = best;
        return lines_[front_].a;
    }

private:
    struct Line {
        std::size_t a;
        Real d;
        Real slope;
        Real intercept;
    };

    Real evaluate(const Line& line, std::size_t x) const { return line.d + step_cost(h_, l_, p_, line.a, x); }

    // With slopes s1 > s2 > s3, line 2 never is strictly lowest when lines 1 and 3 meet no later than lines 1 and 2.
    static bool useless(const Line& l1, const Line& l2, const Line& l3) {
        const Real lhs = (l3.intercept - l1.intercept) * (l1.slope - l2.slope);
        const Real rhs = (l2.intercept - l1.intercept) * (l1.slope - l3.slope);
        return lhs <= rhs;
    }

    const double* h_;
    const double* l_;
    const std::vector<Real>& p_;
    std::vector<Line> lines_;
    std::size_t front_ = 0;
};

using MonotoneHull = BasicMonotoneHull<long double>;

// ---- errors of the paths the frontier's DP chose (issue 19) ---------------------------------------------------------
// The DP values are rounded differences of prefix sums ~TC: an additive residue ~2^-64 TC that swamps small opt_k.
// The frontier reports instead each path's error summed from step costs in double-double (~106 bits), where a
// single-token step costs exactly 0 and any other step carries an absolute error ~n 2^-106 TC.

// hi + lo with |lo| <= ulp(hi) / 2 (Knuth's two-sum and an FMA product: error-free transformations).
struct Twofold {
    double hi = 0.0;
    double lo = 0.0;
};

inline Twofold two_sum(double a, double b) {
    const double s = a + b;
    const double bb = s - a;
    return {s, (a - (s - bb)) + (b - bb)};
}

inline Twofold quick_two_sum(double a, double b) {  // |a| >= |b|
    const double s = a + b;
    return {s, b - (s - a)};
}

inline Twofold operator+(Twofold x, Twofold y) {
    Twofold s = two_sum(x.hi, y.hi);
    const Twofold t = two_sum(x.lo, y.lo);
    s = quick_two_sum(s.hi, s.lo + t.hi);
    return quick_two_sum(s.hi, s.lo + t.lo);
}

inline Twofold operator-(Twofold x) { return {-x.hi, -x.lo}; }

inline Twofold two_product(double a, double b) {
    const double p = a * b;
    return {p, std::fma(a, b, -p)};
}

// Path errors E_j(b) of one DP layer after another: state b of layer j extends the path of state arg[b] of layer
// j - 1 by the step (arg[b], b], whose cost U(a, b) = (Q_b - Q_{a+1}) - (b - a - 1) h_{a+1} uses double-double prefix
// sums Q of l. O(n) memory, O(1) per state.
class PathErrors {
public:
    PathErrors(const double* h, const double* l, std::size_t n) : h_(h), q_(n + 1), prev_(n + 1), cur_(n + 1) {
        for (std::size_t i = 0; i < n; ++i) q_[i + 1] = q_[i] + Twofold{l[i], 0.0};
    }

    void advance(const std::int32_t* arg, std::size_t lo, std::size_t hi) {
        for (std::size_t b = lo; b <= hi; ++b) {
            const auto a = static_cast<std::size_t>(arg[b]);
            cur_[b] = prev_[a] + cost(a, b);
        }
        std::swap(prev_, cur_);
    }

    // The error of the path that state b of the last layer chose, rounded once (never below the exact 0).
    double at(std::size_t b) const { return std::max(0.0, prev_[b].hi + prev_[b].lo); }

private:
    Twofold cost(std::size_t a, std::size_t b) const {
        if (b <= a + 1) return {};  // a single-token step: exactly 0
        return (q_[b] + -q_[a + 1]) + -two_product(static_cast<double>(b - a - 1), h_[a]);
    }

    const double* h_;
    std::vector<Twofold> q_;
    std::vector<Twofold> prev_, cur_;
};

}  // namespace mdmsched::detail
