// Shared pieces of the schedule solvers: prefix sums and the one-step cost c(a, b). Internal header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace mdmsched::detail {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Prefix sums are kept in extended precision: c(a, b) subtracts two prefix sums that can be ~n times larger than
// the step's error, and double precision would lose up to log10(n) of the error's digits to that cancellation.
using Prefix = std::vector<long double>;

// P_b = z[0] + ... + z[b-1], b = 0..n.
inline Prefix prefix_sums(const double* z, std::size_t n) {
    Prefix p(n + 1, 0.0L);
    for (std::size_t i = 0; i < n; ++i) p[i + 1] = p[i] + z[i];
    return p;
}

// The same prefix sums in another precision (double for the small-n penalized solver, see lagrangian.cpp).
template <typename Real>
inline std::vector<Real> prefix_sums_in(const double* z, std::size_t n) {
    std::vector<Real> p(n + 1, Real(0));
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
inline double step_cost(const double* h, const double* l, const std::vector<Real>& p, std::size_t a, std::size_t b) {
    return static_cast<double>((p[b] - p[a]) - static_cast<Real>(b - a) * h[a] + (static_cast<Real>(h[a]) - l[a]));
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
// Real is the precision of the prefix sums (long double everywhere except the small-n penalized solver).
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
    void add(std::size_t a, double d) {
        const Line line{
            a, d, -h_[a],
            static_cast<double>(d - p_[a] + static_cast<Real>(a) * h_[a] + (static_cast<Real>(h_[a]) - l_[a]))};
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
    std::size_t query(std::size_t x, double* value) {
        double best = evaluate(lines_[front_], x);
        while (front_ + 1 < lines_.size()) {
            const double next = evaluate(lines_[front_ + 1], x);
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
        double d;
        double slope;
        double intercept;
    };

    double evaluate(const Line& line, std::size_t x) const { return line.d + step_cost(h_, l_, p_, line.a, x); }

    // With slopes s1 > s2 > s3, line 2 never is strictly lowest when lines 1 and 3 meet no later than lines 1 and 2.
    static bool useless(const Line& l1, const Line& l2, const Line& l3) {
        using ld = Real;
        const ld lhs = (ld(l3.intercept) - ld(l1.intercept)) * (ld(l1.slope) - ld(l2.slope));
        const ld rhs = (ld(l2.intercept) - ld(l1.intercept)) * (ld(l1.slope) - ld(l3.slope));
        return lhs <= rhs;
    }

    const double* h_;
    const double* l_;
    const std::vector<Real>& p_;
    std::vector<Line> lines_;
    std::size_t front_ = 0;
};

using MonotoneHull = BasicMonotoneHull<long double>;

}  // namespace mdmsched::detail
