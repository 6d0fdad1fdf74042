// Exercises every entry point of the C++ core on random and edge inputs; built with AddressSanitizer and
// UndefinedBehaviorSanitizer by -DMDMSCHED_SANITIZE=ON. Prints "N passed, M failed" last; exits non-zero on failure.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "mdmsched/closed_loop.hpp"
#include "mdmsched/entropy.hpp"
#include "mdmsched/markov.hpp"
#include "mdmsched/practice.hpp"
#include "mdmsched/riemann.hpp"

namespace {

int passed = 0, failed = 0;

void check(bool ok, const std::string& what) {
    if (ok) {
        ++passed;
    } else {
        ++failed;
        std::printf("FAILED: %s\n", what.c_str());
    }
}

template <typename Call>
void expect_invalid(Call&& call, const std::string& what) {
    try {
        call();
        check(false, what + " (no exception)");
    } catch (const std::invalid_argument&) {
        check(true, what);
    } catch (...) {
        check(false, what + " (wrong exception type)");
    }
}

std::mt19937_64 rng(12345);

std::vector<double> random_curve(std::size_t n, int kind) {
    std::vector<double> z(n, 0.0);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    for (std::size_t i = 1; i < n; ++i) {
        double inc = kind == 0 ? u(rng) : kind == 1 ? std::floor(3 * u(rng)) / 4 : (u(rng) < 0.1 ? 1.0 : 0.0);
        if (kind == 3) inc = 0.0;
        z[i] = z[i - 1] + inc;
    }
    return z;
}

double entropy_direct(const std::vector<double>& p) {
    double h = 0;
    for (double x : p)
        if (x > 0) h -= x * std::log(x);
    return h;
}

void solver_checks() {
    using mdmsched::Method;
    for (int trial = 0; trial < 200; ++trial) {
        const std::size_t n = 1 + rng() % 40;
        const auto z = random_curve(n, trial % 4);
        const std::size_t k = 1 + rng() % n;
        const auto naive = mdmsched::solve(z.data(), n, k, Method::Naive);
        for (Method m : {Method::Hull, Method::Lagrangian, Method::Auto}) {
            const auto fast = mdmsched::solve(z.data(), n, k, m);
            check(fast.breakpoints.size() == k + 1 && fast.breakpoints.back() == static_cast<std::int64_t>(n),
                  "solver returns exactly k steps");
            check(std::fabs(fast.error - naive.error) <= 1e-9 * std::max(1.0, naive.error), "fast == naive");
        }
        const auto front = mdmsched::error_frontier(z.data(), n, n, Method::Auto);
        check(std::fabs(front[k - 1] - naive.error) <= 1e-9 * std::max(1.0, naive.error), "frontier == naive");
        std::vector<std::int64_t> sizes;
        for (std::size_t j = 1; j < naive.breakpoints.size(); ++j)
            sizes.push_back(naive.breakpoints[j] - naive.breakpoints[j - 1]);
        check(std::fabs(mdmsched::schedule_error(z.data(), n, sizes.data(), sizes.size()) - naive.error) < 1e-12,
              "schedule_error of the optimum");
        const auto fewest = mdmsched::min_steps(z.data(), n, naive.error);
        check(fewest.breakpoints.size() <= k + 1 && fewest.error <= naive.error + 1e-9 * std::max(1.0, naive.error),
              "min_steps reaches opt_k in at most k steps");
    }
    // Huge n with small k, and k = n.
    const auto big = random_curve(200000, 0);
    check(mdmsched::solve(big.data(), big.size(), 3, Method::Auto).breakpoints.size() == 4, "huge n, k = 3");
    check(mdmsched::solve(big.data(), big.size(), 1000, Method::Lagrangian).breakpoints.size() == 1001,
          "huge n, k = 1000");
    const auto small = random_curve(50, 0);
    check(mdmsched::solve(small.data(), 50, 50, Method::Hull).error == 0.0, "k = n has error 0");
    const double one = 0.0;
    check(mdmsched::solve(&one, 1, 1, Method::Naive).error == 0.0, "n = 1");
    // Invalid arguments.
    const std::vector<double> bad = {0.0, 1.0, 0.5};
    const std::vector<double> nan = {0.0, std::nan("")};
    const std::vector<double> offset = {1.0, 2.0, 3.0};
    expect_invalid([&] { mdmsched::solve(offset.data(), 3, 2, Method::Auto); }, "Z_1 != 0");
    expect_invalid([&] { mdmsched::solve(bad.data(), 3, 2, Method::Auto); }, "non-monotone curve");
    expect_invalid([&] { mdmsched::solve(nan.data(), 2, 1, Method::Auto); }, "NaN curve");
    expect_invalid([&] { mdmsched::solve(small.data(), 50, 0, Method::Auto); }, "k = 0");
    expect_invalid([&] { mdmsched::solve(small.data(), 50, 51, Method::Auto); }, "k > n");
    expect_invalid([&] { mdmsched::solve(small.data(), 0, 1, Method::Auto); }, "n = 0");
    expect_invalid([&] { mdmsched::error_frontier(small.data(), 50, 51, Method::Auto); }, "k_max > n");
    expect_invalid([&] { mdmsched::min_steps(small.data(), 50, -1.0); }, "negative eps");
    expect_invalid([&] { mdmsched::min_steps(small.data(), 50, std::nan("")); }, "NaN eps");
    const std::vector<std::int64_t> short_sizes = {10, 10}, negative = {60, -10}, huge = {INT64_MAX, 1};
    expect_invalid([&] { mdmsched::schedule_error(small.data(), 50, short_sizes.data(), 2); }, "sizes sum < n");
    expect_invalid([&] { mdmsched::schedule_error(small.data(), 50, negative.data(), 2); }, "negative size");
    expect_invalid([&] { mdmsched::schedule_error(small.data(), 50, huge.data(), 2); }, "overflowing sizes");
    // Certified (two-curve) entry points: a band h <= l, every method against the naive DP.
    for (int trial = 0; trial < 100; ++trial) {
        const std::size_t n = 1 + rng() % 40;
        const auto h = random_curve(n, trial % 4);
        auto l = h;
        for (double& v : l) v += static_cast<double>(rng() % 4) * 0.25;
        const std::size_t k = 1 + rng() % n;
        const auto naive = mdmsched::certified_solve(h.data(), l.data(), n, k, Method::Naive);
        for (Method m : {Method::Hull, Method::Lagrangian, Method::Auto}) {
            const auto fast = mdmsched::certified_solve(h.data(), l.data(), n, k, m);
            check(std::fabs(fast.error - naive.error) <= 1e-9 * std::max(1.0, naive.error), "certified fast == naive");
        }
        const auto front = mdmsched::certified_frontier(h.data(), l.data(), n, n, Method::Auto);
        check(std::fabs(front[k - 1] - naive.error) <= 1e-9 * std::max(1.0, naive.error), "certified frontier");
        const auto fewest = mdmsched::certified_min_steps(h.data(), l.data(), n, naive.error);
        check(fewest.breakpoints.size() <= k + 1, "certified min_steps reaches min U in at most k steps");
        // The checked double layer, where it does not flag a near tie, is the long-double layer (issue 28).
        const double lambda = naive.error / static_cast<double>(k);
        const auto checked = mdmsched::penalized_pass(h.data(), l.data(), n, lambda, true);
        check(checked.empty() || checked == mdmsched::penalized_pass(h.data(), l.data(), n, lambda, false),
              "checked penalized layer == long-double layer");
    }
    expect_invalid([&] { mdmsched::penalized_pass(small.data(), small.data(), 50, -1.0, true); }, "negative lambda");
    const std::vector<double> low = {-1.0, -1.0, -1.0};
    expect_invalid([&] { mdmsched::certified_solve(small.data(), low.data(), 3, 2, Method::Auto); },
                   "prefix < heights");
}

void entropy_checks() {
    for (int trial = 0; trial < 40; ++trial) {
        const std::size_t n = 1 + rng() % 6;
        std::vector<std::size_t> shape(n);
        std::size_t cells = 1;
        for (auto& q : shape) {
            q = 1 + rng() % 3;
            cells *= q;
        }
        std::vector<double> p(cells);
        std::uniform_real_distribution<double> u(0.0, 1.0);
        double total = 0;
        for (auto& x : p) total += (x = u(rng) < 0.3 ? 0.0 : u(rng));
        if (total == 0) p[0] = total = 1.0;
        for (auto& x : p) x /= total;
        const auto one = mdmsched::dense_lattice(p.data(), shape, true, 1);
        const auto two = mdmsched::dense_lattice(p.data(), shape, true, 2);
        check(one.subset_entropy == two.subset_entropy && one.size_sums == two.size_sums, "threads 1 == 2");
        check(std::fabs(one.subset_entropy.back() - entropy_direct(p)) < 1e-12, "H(X) of the full set");
        // An unnormalised p walked with its total: the bits of walking the stored p / total.
        std::vector<double> scaled(p), divided(p);
        for (auto& x : scaled) x *= 3.0;
        for (std::size_t i = 0; i < p.size(); ++i) divided[i] = scaled[i] / 3.0;
        const auto by_total = mdmsched::dense_lattice(scaled.data(), shape, true, 2, nullptr, 3.0);
        const auto by_copy = mdmsched::dense_lattice(divided.data(), shape, true, 1);
        check(by_total.subset_entropy == by_copy.subset_entropy && by_total.size_sums == by_copy.size_sums,
              "walk of p with its total == walk of p / total");
        expect_invalid([&] { mdmsched::dense_lattice(p.data(), shape, false, 1, nullptr, 0.0); }, "total = 0");
        // Shards: every split by the first `lead` coordinates reproduces the walk bit for bit.
        const std::size_t units = mdmsched::lattice_unit_bits(n);
        for (std::size_t lead = 0; lead <= units; ++lead) {
            std::vector<double> subsets(one.subset_entropy.size(), -1.0);
            std::vector<double> unit_rows((std::size_t{1} << units) * (n + 1), 0.0);
            for (std::uint64_t pattern = 0; pattern < (std::uint64_t{1} << lead); ++pattern) {
                const auto shard = mdmsched::dense_lattice_shard(p.data(), shape, lead, pattern, true, 1 + trial % 3);
                for (std::size_t t = 0; t < shard.subset_entropy.size(); ++t)
                    subsets[pattern + (t << lead)] = shard.subset_entropy[t];
                for (std::size_t v = 0; v < shard.unit_sums.size() / (n + 1); ++v)
                    for (std::size_t m = 0; m <= n; ++m)
                        unit_rows[(pattern + (v << lead)) * (n + 1) + m] = shard.unit_sums[v * (n + 1) + m];
            }
            std::vector<double> sums(n + 1, 0.0);
            for (std::size_t u = 0; u < (std::size_t{1} << units); ++u)
                for (std::size_t m = 0; m <= n; ++m) sums[m] += unit_rows[u * (n + 1) + m];
            check(subsets == one.subset_entropy && sums == one.size_sums, "shards == single walk");
        }
        expect_invalid([&] { mdmsched::dense_lattice_shard(p.data(), shape, units + 1, 0, false, 1); }, "lead > U");
        expect_invalid([&] { mdmsched::dense_lattice_shard(p.data(), shape, 0, 1, false, 1); }, "pattern bits");
        // The same law as a sparse support, with a zero-probability row kept in.
        std::vector<std::int64_t> rows;
        std::vector<double> probs;
        for (std::size_t c = 0; c < cells; ++c) {
            std::size_t rest = c;
            std::vector<std::int64_t> row(n);
            for (std::size_t i = n; i-- > 0;) {
                row[i] = static_cast<std::int64_t>(rest % shape[i]) * 7 - 3;  // arbitrary symbols
                rest /= shape[i];
            }
            rows.insert(rows.end(), row.begin(), row.end());
            probs.push_back(p[c]);
        }
        const auto sparse = mdmsched::sparse_lattice(rows.data(), probs.data(), cells, n, true, 2);
        double worst = 0;
        for (std::size_t s = 0; s < one.subset_entropy.size(); ++s)
            worst = std::max(worst, std::fabs(sparse.subset_entropy[s] - one.subset_entropy[s]));
        check(worst < 1e-12, "sparse == dense");
        const auto md = mdmsched::dense_marginal_entropies(p.data(), shape);
        const auto ms = mdmsched::sparse_marginal_entropies(rows.data(), probs.data(), cells, n);
        check(std::fabs(md.joint - ms.joint) < 1e-12 && md.singles.size() == n, "marginal entropies");
        check(mdmsched::dense_prefix_entropies(p.data(), shape).size() == n + 1, "prefix entropies");
    }
    // Past the unit bits (n > 10) with every kernel: the walk below the units, its leaves summed and logged straight
    // from their parent (never stored), bit for bit the entropy of the stored pair sums.
    for (const auto& name : mdmsched::entropy_kernels()) {
        const std::string previous = mdmsched::use_entropy_kernel(name);
        for (std::size_t first : {2, 3}) {
            std::vector<std::size_t> shape(12, 2);
            shape[0] = first;
            std::vector<double> p(first << 11);
            std::uniform_real_distribution<double> u(0.0, 1.0);
            double total = 0;
            for (auto& x : p) total += (x = u(rng) < 0.2 ? 0.0 : u(rng));
            for (auto& x : p) x /= total;
            const auto one = mdmsched::dense_lattice(p.data(), shape, true, 1);
            const auto two = mdmsched::dense_lattice(p.data(), shape, true, 2);
            check(one.subset_entropy == two.subset_entropy && one.size_sums == two.size_sums,
                  "n = 12 threads, " + name);
            std::vector<double> pairs(p.size() / 2);
            for (std::size_t i = 0; i < pairs.size(); ++i) pairs[i] = p[2 * i] + p[2 * i + 1];
            check(one.subset_entropy[(std::size_t{1} << 11) - 1] == mdmsched::entropy(pairs.data(), pairs.size()),
                  "n = 12 leaf == entropy of the stored pair sums, " + name);
        }
        mdmsched::use_entropy_kernel(previous);
    }
    std::vector<std::size_t> empty_axis = {2, 0};
    std::vector<double> four(4, 0.25);
    expect_invalid([&] { mdmsched::dense_lattice(four.data(), empty_axis, true, 1); }, "empty axis");
    expect_invalid([&] { mdmsched::dense_lattice(four.data(), {}, true, 1); }, "0-d tensor");
    expect_invalid([&] { mdmsched::sparse_lattice(nullptr, nullptr, 0, 3, true, 1); }, "empty support");
    // Cancellation from the monitor.
    std::vector<std::size_t> shape(16, 2);
    std::vector<double> p(1 << 16, 1.0 / (1 << 16));
    try {
        mdmsched::dense_lattice(p.data(), shape, false, 2, [](double) { return false; });
        check(false, "cancel (no exception)");
    } catch (const mdmsched::Cancelled&) {
        check(true, "cancel");
    }
}

void markov_checks() {
    for (int trial = 0; trial < 30; ++trial) {
        const std::size_t n = 1 + rng() % 300, gaps = rng() % 400;
        std::vector<double> delta(gaps);
        std::normal_distribution<double> normal(0.0, 1.0);
        for (std::size_t g = 0; g < gaps; ++g) delta[g] = normal(rng) * std::exp(-0.05 * static_cast<double>(g));
        const auto exact = mdmsched::markov_gap_sums(delta.data(), gaps, n, 0.0);
        const auto fast = mdmsched::markov_gap_sums(delta.data(), gaps, n, 1e-6);
        double scale = 0, worst = 0;
        for (double d : delta) scale = std::max(scale, std::fabs(d));
        for (std::size_t m = 0; m <= n; ++m)
            worst = std::max(worst, std::fabs(exact[m] - fast[m]) - 1e-13 * std::fabs(exact[m]));
        check(exact.size() == n + 1 && worst <= 0.5e-6 * scale, "markov gap sums within tolerance");
    }
    std::vector<double> one(1, -0.5);
    expect_invalid([&] { mdmsched::markov_gap_sums(one.data(), 1, 0, 0.0); }, "markov n = 0");
    // Every entropy kernel this CPU runs gives the same entropy to rounding; unknown names are refused.
    std::vector<double> cells(3000);
    for (std::size_t i = 0; i < cells.size(); ++i) cells[i] = (1.0 + static_cast<double>(i % 7)) / 12000.0;
    const double widest = mdmsched::entropy(cells.data(), cells.size());
    for (const auto& name : mdmsched::entropy_kernels()) {
        const std::string previous = mdmsched::use_entropy_kernel(name);
        check(std::fabs(mdmsched::entropy(cells.data(), cells.size()) - widest) < 1e-12, "kernel " + name);
        mdmsched::use_entropy_kernel(previous);
    }
    expect_invalid([&] { mdmsched::use_entropy_kernel("avx9000"); }, "unknown kernel");
    // Peer count recursions: dllm and Dream reveal every position.
    const std::vector<float> masked{0.0f, 0.25f, 0.5f, 0.75f, 1.0f};  // 1 - alpha(i / 4) for alpha = 1 - t
    const std::vector<float> unmasked{1.0f, 0.75f, 0.5f, 0.25f, 0.0f};  // alpha rising in t: refused
    const auto dllm = mdmsched::dllm_counts(10, masked.data(), masked.size());
    std::int64_t revealed = 0;
    for (auto c : dllm) revealed += c;
    check(revealed == 10, "dllm reveals n");
    expect_invalid([&] { mdmsched::dllm_counts(10, unmasked.data(), unmasked.size()); }, "dllm rising alpha");
    const std::vector<float> shrink{0.5f, 0.5f, 0.5f};
    const auto dream = mdmsched::dream_counts(10, shrink.data(), shrink.size());
    check(dream == std::vector<std::int64_t>{5, 2, 3}, "dream counts");
    expect_invalid([&] { mdmsched::markov_gap_sums(one.data(), 1, 5, -1.0); }, "markov tol < 0");
}

void closed_loop_checks() {
    std::mt19937_64 rng(7);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    for (std::size_t n : {1, 2, 7, 40}) {
        std::vector<double> z(n, 0.0);
        for (std::size_t i = 1; i < n; ++i) z[i] = z[i - 1] + (unit(rng) < 0.3 ? 0.0 : unit(rng));
        for (std::size_t k : {std::size_t{1}, (n + 1) / 2, n}) {
            const auto fast = mdmsched::closed_loop_policy(z.data(), n, k);
            const auto slow = mdmsched::closed_loop_policy_naive(z.data(), n, k);
            check(fast.count == slow.count && fast.error == slow.error, "closed loop fast == naive");
            const auto best = mdmsched::solve(z.data(), n, k, mdmsched::Method::Naive);
            const double error = fast.error[k];  // state (0, k)
            check(std::fabs(error - best.error) <= 1e-9 * std::max(1.0, best.error), "closed loop V_k(0) == opt_k");
        }
    }
    const std::vector<double> z = {0.0, 1.0, 2.0};
    expect_invalid([&] { mdmsched::closed_loop_policy(z.data(), 3, 0); }, "closed loop k = 0");
    expect_invalid([&] { mdmsched::closed_loop_policy(z.data(), 3, 4); }, "closed loop k > n");
    const std::vector<double> bad = {0.0, 1.0, 0.5};
    expect_invalid([&] { mdmsched::closed_loop_policy(bad.data(), 3, 2); }, "closed loop non-monotone");
}

}  // namespace

int main() {
    solver_checks();
    closed_loop_checks();
    entropy_checks();
    markov_checks();
    std::printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
