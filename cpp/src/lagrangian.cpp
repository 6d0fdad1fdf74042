// Exact k-step solver by Lagrangian relaxation ("Aliens" / WQS search): opt_k is convex in k, so for a per-step
// penalty lambda the unconstrained minimiser of err + lambda * steps is optimal for its own step count. We search
// lambda (secant steps on the concave dual, safeguarded by bisection) and, when no lambda yields exactly k steps
// (ties), splice a fewer-step and a more-step optimum into an exact k-step optimum (Monge exchange argument).
#include <algorithm>
#include <cmath>
#include <memory>
#include <utility>
#include <vector>

#include "mdmsched/riemann.hpp"
#include "penalized_pass.hpp"
#include "riemann_detail.hpp"

namespace mdmsched::detail {

Solution solve_hull(const double* h, const double* l, std::size_t n, std::size_t k);  // hull.cpp

namespace {

struct Candidate {
    std::vector<std::int64_t> bp;  // N_0..N_c
    double error = 0.0;            // U(bp) (err(Z, bp) for one curve), recomputed exactly once `known`
    bool known = false;            // probes that only steer the search never need their error (issue 28)
    std::size_t steps() const { return bp.size() - 1; }
    double penalized(double lambda) const { return error + lambda * static_cast<double>(steps()); }
};

// One DP layer per penalty, first in double precision with a check for near ties (penalized_pass.hpp), which gives the
// exact-arithmetic argmins unless a comparison came within its rounding bound; only then is the layer re-run with
// prefix sums and DP values in long double, as in the other solvers: each c(a, b) carries an absolute error of a few
// ulp (2^-64) of P_n = TC, so a chosen schedule is within ~4 n 2^-64 TC of optimal (the returned error is always
// recomputed from the breakpoints). An unchecked double DP could not separate 1-ulp ties (issue 19); the long-double
// DP alone cost ~6 us per layer at n = 256 (issue 28).
class PenalizedSolver {
public:
    PenalizedSolver(const double* h, const double* l, std::size_t n)
        : h_(h), l_(l), n_(n), parent_(n + 1), try_double_(n <= kCheckedDoubleMaxN) {
        for (std::size_t i = 0; i < n; ++i) total_ += l[i];
    }

    // argmin over schedules of err + lambda * steps: one DP layer, O(n) with the hull.
    Candidate solve(double lambda) {
        if (!(try_double_ && checked().run(lambda, parent_.data()))) {
            try_double_ = false;  // a curve that ties once tends to tie again: the remaining layers skip the check
            solve_long_double(lambda);
        }
        Candidate c;
        c.bp = make_path();
        return c;  // error not yet known: settle() computes it when the search needs it
    }

    // The same layer with the near-tie check off (`in_double` false) or on, at any n; empty when the check flagged a
    // near tie.
    std::vector<std::int64_t> pass(double lambda, bool in_double) {
        if (in_double) {
            if (!checked().run(lambda, parent_.data())) return {};
        } else {
            solve_long_double(lambda);
        }
        return make_path();
    }

    Candidate make(std::vector<std::int64_t> bp) const {
        Candidate c;
        c.bp = std::move(bp);
        settle(c);
        return c;
    }

    // The one-step error TC rounded from a double sum: a bound for the probes, not an exact value.
    double total() const { return total_; }

    void settle(Candidate& c) const {
        if (!c.known) c.error = certified_breakpoint_error(h_, l_, n_, c.bp);
        c.known = true;
    }

private:
    std::vector<std::int64_t> make_path() const {
        std::vector<std::int64_t> reversed;
        reversed.reserve(64);
        for (std::size_t b = n_; b > 0; b = parent_[b]) reversed.push_back(static_cast<std::int64_t>(b));
        reversed.push_back(0);
        return {reversed.rbegin(), reversed.rend()};
    }

    void solve_long_double(double lambda) {
        if (p_.empty()) {  // built on the first near tie only
            p_ = prefix_sums(l_, n_);
            hull_ = std::make_unique<MonotoneHull>(h_, l_, p_);
            value_.assign(n_ + 1, 0.0L);
        }
        hull_->reset();
        value_[0] = 0.0;
        for (std::size_t b = 1; b <= n_; ++b) {
            hull_->add(b - 1, value_[b - 1]);
            Value v = 0.0;
            parent_[b] = hull_->query(b, &v);
            value_[b] = v + lambda;
        }
    }

    const double* h_;
    const double* l_;
    std::size_t n_;
    // The double layer's rounding bound grows like n u M, so from n ~ 2048 on it flags most layers of smooth curves
    // (measured: none of 24 at n <= 1024, 21 of 24 at n = 2048..4096); larger problems go straight to long double.
    static constexpr std::size_t kCheckedDoubleMaxN = 1024;

    CheckedPenalizedPass& checked() {
        if (!checked_) checked_ = std::make_unique<CheckedPenalizedPass>(h_, l_, n_);
        return *checked_;
    }

    std::unique_ptr<CheckedPenalizedPass> checked_;
    double total_ = 0.0;
    std::vector<std::size_t> parent_;
    bool try_double_;
    Prefix p_;
    std::unique_ptr<MonotoneHull> hull_;
    std::vector<Value> value_;
};

// Given optimal schedules a (fewer than k steps) and b (more than k steps) for the same penalty, returns a
// k-step schedule that is optimal too: b's breakpoints up to b_i, then a's from the first a_j > b_i. Choosing i as
// the last index where that count is <= k makes the count exactly k and nests b's step (b_i, b_{i+1}) inside a's
// step (a_{j-1}, a_j), where the quadrangle inequality lets the two schedules swap tails without losing.
std::vector<std::int64_t> splice(const std::vector<std::int64_t>& a, const std::vector<std::int64_t>& b,
                                 std::size_t k) {
    const std::size_t l = a.size() - 1, r = b.size() - 1;
    std::size_t j = 1, best_i = 0, best_j = 1;
    for (std::size_t i = 0; i < r; ++i) {
        while (a[j] <= b[i]) ++j;  // a[j-1] <= b[i] < a[j]
        if (i + 1 + l - j <= k) {
            best_i = i;
            best_j = j;
        }
    }
    std::vector<std::int64_t> out(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(best_i) + 1);
    out.insert(out.end(), a.begin() + static_cast<std::ptrdiff_t>(best_j), a.end());
    return out;
}

enum class Side { Fewer, More, Done };

// Brackets the target on the lower convex hull of opt_k: returns `fewer` and `more`, optimal for one penalty, with
// side(fewer) == Fewer and side(more) == More, adjacent on the hull (or `done` when a solve lands on the target).
//
// `guess` > 0 (with `target` steps) starts with probes from the continuum model (SPEC §6): k steps are optimal near
// lambda = S^2 / (2 k^2), S = sum sqrt(Z_{i+1} - Z_i), so a probe at lambda that gives c steps suggests
// lambda * (c / target)^2 next. Probes stop once both sides are seen; every probe is an exact penalized optimum, so it
// only tightens the bracket and the secant phase below (which decides termination) is unchanged.
template <typename Solver, typename Classify>
std::pair<Candidate, Candidate> bracket(Solver& solver, std::size_t n, Classify&& side, Candidate* done,
                                        double guess = 0.0, std::size_t target = 0) {
    std::vector<std::int64_t> all(n + 1);
    for (std::size_t i = 0; i <= n; ++i) all[i] = static_cast<std::int64_t>(i);
    Candidate fewer;  // optimal for lambda >= TC
    fewer.bp = {0, static_cast<std::int64_t>(n)};
    Candidate more = solver.make(std::move(all));  // optimal for lambda <= 0 (error 0)
    // hi = TC, the one-step error: the probes below only need a bound on it (a probe is valid at any lambda), so its
    // exact sum waits until the secant phase needs it.
    double lo = 0.0, hi = solver.total();
    bool seen_fewer = false, seen_more = false;
    for (int probe = 0; probe < 8 && target > 0 && guess > lo && guess < hi && !(seen_fewer && seen_more); ++probe) {
        Candidate c = solver.solve(guess);
        const Side where = side(c);
        if (where == Side::Done) {
            *done = std::move(c);
            return {std::move(fewer), std::move(more)};
        }
        const double ratio = static_cast<double>(c.steps()) / static_cast<double>(target);
        if (where == Side::Fewer) {
            fewer = std::move(c);
            hi = guess;
            seen_fewer = true;
        } else {
            more = std::move(c);
            lo = guess;
            seen_more = true;
        }
        guess *= std::min(64.0, std::max(1.0 / 64.0, ratio * ratio));
    }
    if (!seen_fewer) {
        solver.settle(fewer);
        hi = fewer.error;
    }
    solver.settle(more);
    double width_before = hi - lo;
    bool bisect_next = false;
    for (int iter = 0; iter < 256; ++iter) {
        const double secant = (fewer.error - more.error) / static_cast<double>(more.steps() - fewer.steps());
        if (!(secant > lo && secant < hi)) break;  // both ends tie at a bound: already a supporting pair
        const double lambda = bisect_next ? 0.5 * (lo + hi) : secant;
        Candidate c = solver.solve(lambda);
        const Side where = side(c);
        if (where == Side::Done) {
            *done = std::move(c);
            break;
        }
        solver.settle(c);
        if (!bisect_next) {
            // Nothing strictly below the chord through (fewer, more): the chord supports the convex opt_k.
            const double chord = fewer.penalized(lambda);
            if (c.penalized(lambda) >= chord - 1e-13 * std::fabs(chord)) break;
        }
        if (where == Side::Fewer) {
            fewer = std::move(c);
            hi = lambda;
        } else {
            more = std::move(c);
            lo = lambda;
        }
        // Secant steps are fast on smooth frontiers; force a bisection whenever one fails to halve the interval.
        bisect_next = !bisect_next && (hi - lo) > 0.5 * width_before;
        width_before = hi - lo;
    }
    return {std::move(fewer), std::move(more)};
}

Solution solve_lagrangian_in(const double* h, const double* l, std::size_t n, std::size_t k) {
    PenalizedSolver solver(h, l, n);
    Candidate done;
    // S = sum sqrt(Z_{i+1} - Z_i): the continuum model's opt_k ~ S^2 / (2k) (a starting guess only; a band's prefix
    // curve need not be monotone, hence the clamp).
    // Four partial sums, so that the square roots can run side by side (this file is built without errno for sqrt).
    double part[4] = {0.0, 0.0, 0.0, 0.0};
    std::size_t i = 1;
    for (; i + 4 <= n; i += 4)
        for (std::size_t j = 0; j < 4; ++j) part[j] += std::sqrt(std::max(0.0, l[i + j] - l[i + j - 1]));
    for (; i < n; ++i) part[0] += std::sqrt(std::max(0.0, l[i] - l[i - 1]));
    const double root_sum = (part[0] + part[1]) + (part[2] + part[3]);
    const double guess = root_sum * root_sum / (2.0 * static_cast<double>(k) * static_cast<double>(k));
    auto [fewer, more] = bracket(
        solver, n,
        [k](const Candidate& c) { return c.steps() == k  ? Side::Done
                                         : c.steps() < k ? Side::Fewer
                                                         : Side::More; },
        &done, guess, k);
    if (!done.bp.empty()) {
        solver.settle(done);
        return Solution{done.error, std::move(done.bp)};
    }
    auto bp = splice(fewer.bp, more.bp, k);
    const double err = certified_breakpoint_error(h, l, n, bp);
    // The splice is optimal when both sides are optimal for one penalty, which only holds on collinear stretches of
    // opt_k (ties). There the two sides' penalized values differ by rounding, and a duality gap test cannot tell a
    // 1-ulp tie from an exact one (issue 19: 56 of 9,945 exact-oracle cases were 1 ulp off). So a spliced k is settled
    // by the exact hull DP whenever its table is small (16 Mi entries, 64 MiB); the penalty search alone decides only
    // larger problems, within its documented tolerance.
    if (static_cast<double>(k) * static_cast<double>(n + 1) <= 16.0 * 1024 * 1024) {
        Solution exact = solve_hull(h, l, n, k);
        if (exact.error <= err) return exact;
    }
    return Solution{err, std::move(bp)};
}

Solution min_steps_lagrangian_in(const double* h, const double* l, std::size_t n, double eps) {
    PenalizedSolver solver(h, l, n);
    Candidate one = solver.make({0, static_cast<std::int64_t>(n)});
    if (one.error <= eps) return Solution{one.error, std::move(one.bp)};
    Candidate unused;
    auto [fewer, more] = bracket(
        solver, n,
        [&solver, eps](Candidate& c) {
            solver.settle(c);
            return c.error > eps ? Side::Fewer : Side::More;
        },
        &unused);
    // fewer (error > eps) and more (error <= eps) are adjacent hull vertices, so opt_k is linear between them: the
    // first k where that line reaches eps, then the exact-k splice. Rounding is settled by stepping k up if needed.
    const double k_few = static_cast<double>(fewer.steps()), k_many = static_cast<double>(more.steps());
    const double slope = (fewer.error - more.error) / (k_many - k_few);
    auto k = static_cast<std::size_t>(
        std::max(k_few + 1.0, std::min(k_many, k_few + std::ceil((fewer.error - eps) / slope - 1e-9))));
    for (; k < more.steps(); ++k) {
        auto bp = splice(fewer.bp, more.bp, k);
        const double err = certified_breakpoint_error(h, l, n, bp);
        if (err <= eps) return Solution{err, std::move(bp)};
        // The splice is optimal only when fewer and more are optimal for one penalty; hull vertices whose slopes
        // differ by less than the search resolves (~1e-13 relative) break that, and k would come out one too high.
        // Settle this k with the exact hull DP when its k x (n+1) table is small (64 MiB).
        if (k * (n + 1) <= (std::size_t{1} << 24)) {
            Solution exact = solve_hull(h, l, n, k);
            if (exact.error <= eps) return exact;
        }
    }
    return Solution{more.error, std::move(more.bp)};
}

}  // namespace

Solution solve_lagrangian(const double* h, const double* l, std::size_t n, std::size_t k) {
    return solve_lagrangian_in(h, l, n, k);
}

// min_steps compares opt_k with eps exactly (MIN_STEPS_RTOL): the long-double DP keeps the decision sharp on curves
// with a wide dynamic range.
Solution min_steps_lagrangian(const double* h, const double* l, std::size_t n, double eps) {
    return min_steps_lagrangian_in(h, l, n, eps);
}

std::vector<std::int64_t> penalized_pass(const double* h, const double* l, std::size_t n, double lambda, bool checked) {
    PenalizedSolver solver(h, l, n);
    return solver.pass(lambda, checked);
}

}  // namespace mdmsched::detail
