// Entropies of marginals of a sparse support: rows are grouped by their projection onto S. Adding coordinate j to S
// refines the groups, key = (group of the row under S) * q_j + x_j, so group ids are rebuilt in O(M) per subset.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "entropy_kernels.hpp"
#include "lattice_scheduler.hpp"
#include "mdmsched/entropy.hpp"

namespace mdmsched {

namespace {

// Symbols recoded per column to 0..q_j-1 (q_j <= M), so every refinement key fits in 64 bits.
struct SparseTable {
    std::size_t m = 0, n = 0;
    std::vector<std::uint32_t> codes;  // column-major: codes[j * m + r]
    std::vector<std::uint64_t> alphabet;
    const double* probs = nullptr;

    SparseTable(const std::int64_t* outcomes, const double* p, std::size_t rows, std::size_t cols)
        : m(rows), n(cols), codes(rows * cols), alphabet(cols), probs(p) {
        if (rows == 0) throw std::invalid_argument("the support must have at least one outcome");
        if (rows >= (std::size_t{1} << 31)) throw std::invalid_argument("the support has too many outcomes (>= 2^31)");
        std::vector<std::int64_t> column(rows), values;
        for (std::size_t j = 0; j < cols; ++j) {
            for (std::size_t r = 0; r < rows; ++r) column[r] = outcomes[r * cols + j];
            values = column;
            std::sort(values.begin(), values.end());
            values.erase(std::unique(values.begin(), values.end()), values.end());
            for (std::size_t r = 0; r < rows; ++r)
                codes[j * rows + r] = static_cast<std::uint32_t>(
                    std::lower_bound(values.begin(), values.end(), column[r]) - values.begin());
            alphabet[j] = values.size();
        }
    }
};

// Group ids of every row for one subset, plus the groups' probabilities.
struct Grouping {
    std::vector<std::uint32_t> ids;
    std::vector<double> mass;
    std::size_t groups = 0;
};

class Refiner {
public:
    explicit Refiner(const SparseTable& table) : table_(table) {}

    void root(Grouping& out) const {
        out.ids.assign(table_.m, 0);
        out.groups = 1;
        out.mass.assign(1, 0.0);
        for (std::size_t r = 0; r < table_.m; ++r) out.mass[0] += table_.probs[r];
    }

    // child = parent refined by coordinate j; ids numbered by first appearance in row order (deterministic).
    void refine(const Grouping& parent, std::size_t j, Grouping& child) {
        const std::size_t m = table_.m;
        const std::uint32_t* x = table_.codes.data() + j * m;
        const std::uint64_t q = table_.alphabet[j];
        child.ids.resize(m);
        child.mass.clear();
        std::uint32_t next = 0;
        const std::uint64_t key_space = static_cast<std::uint64_t>(parent.groups) * q;
        if (key_space <= 4 * m + 1024) {  // direct table: cheaper than hashing when keys are dense
            direct_.assign(key_space, kEmpty);
            for (std::size_t r = 0; r < m; ++r) {
                std::uint32_t& slot = direct_[parent.ids[r] * q + x[r]];
                if (slot == kEmpty) {
                    slot = next++;
                    child.mass.push_back(0.0);
                }
                child.ids[r] = slot;
                child.mass[slot] += table_.probs[r];
            }
        } else {
            std::size_t capacity = 1;
            while (capacity < 2 * m) capacity <<= 1;
            keys_.assign(capacity, 0);
            values_.assign(capacity, kEmpty);
            for (std::size_t r = 0; r < m; ++r) {
                const std::uint64_t key = parent.ids[r] * q + x[r];
                std::size_t h = static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ULL) >> 20) & (capacity - 1);
                while (values_[h] != kEmpty && keys_[h] != key) h = (h + 1) & (capacity - 1);
                if (values_[h] == kEmpty) {
                    keys_[h] = key;
                    values_[h] = next++;
                    child.mass.push_back(0.0);
                }
                child.ids[r] = values_[h];
                child.mass[values_[h]] += table_.probs[r];
            }
        }
        child.groups = next;
    }

private:
    static constexpr std::uint32_t kEmpty = std::numeric_limits<std::uint32_t>::max();
    const SparseTable& table_;
    std::vector<std::uint32_t> direct_, values_;
    std::vector<std::uint64_t> keys_;
};

class SparseWalker {
public:
    SparseWalker(const SparseTable& table, double* subset_out)
        : table_(table), refiner_(table), chain_(table.n + 1), subset_out_(subset_out) {}

    void run(const detail::LatticeTask& task, double* size_sums, detail::WalkControl& control) {
        control_ = &control;
        size_sums_ = size_sums;
        refiner_.root(chain_[0]);
        std::uint64_t mask = 0;
        for (std::size_t d = 0; d < task.chosen.size(); ++d) {
            const auto j = static_cast<std::size_t>(task.chosen[d]);
            refiner_.refine(chain_[d], j, chain_[d + 1]);
            mask |= std::uint64_t{1} << j;
        }
        const int last = task.chosen.empty() ? -1 : task.chosen.back();
        if (task.subtree)
            walk(task.chosen.size(), mask, last);
        else
            record(chain_[task.chosen.size()], mask);
    }

private:
    void record(const Grouping& g, std::uint64_t mask) {
        // H(X_empty) = 0 by definition; summing p would leave rounding in log(sum p).
        const double h = mask == 0 ? 0.0 : detail::entropy_of(g.mass.data(), g.groups);
        size_sums_[detail::popcount64(mask)] += h;
        if (subset_out_) subset_out_[mask] = h;
        control_->done.fetch_add(1, std::memory_order_relaxed);
    }

    void walk(std::size_t depth, std::uint64_t mask, int last) {
        record(chain_[depth], mask);
        for (int j = last + 1; j < static_cast<int>(table_.n); ++j) {
            if (control_->cancel.load(std::memory_order_relaxed)) return;
            refiner_.refine(chain_[depth], static_cast<std::size_t>(j), chain_[depth + 1]);
            walk(depth + 1, mask | (std::uint64_t{1} << j), j);
        }
    }

    const SparseTable& table_;
    Refiner refiner_;
    std::vector<Grouping> chain_;  // one grouping per depth: the chain this thread holds
    double* subset_out_;
    detail::WalkControl* control_ = nullptr;
    double* size_sums_ = nullptr;
};

}  // namespace

LatticeResult sparse_lattice(const std::int64_t* outcomes, const double* probs, std::size_t m, std::size_t n,
                             bool keep_subsets, unsigned threads, const Monitor& monitor) {
    if (n == 0 || n > 62) throw std::invalid_argument("outcomes must have 1 to 62 columns, got " + std::to_string(n));
    const SparseTable table(outcomes, probs, m, n);
    return detail::walk_lattice(n, keep_subsets, threads, std::ldexp(1.0, static_cast<int>(n)), monitor,
                                [&](double* subset_out) { return SparseWalker(table, subset_out); });
}

std::vector<double> sparse_subset_entropies(const std::int64_t* outcomes, const double* probs, std::size_t m,
                                            std::size_t n, const std::uint8_t* masks, std::size_t k) {
    if (n == 0) throw std::invalid_argument("outcomes must have at least one column");
    const SparseTable table(outcomes, probs, m, n);
    Refiner refiner(table);
    Grouping a, b;
    std::vector<double> out(k);
    for (std::size_t s = 0; s < k; ++s) {
        refiner.root(a);
        for (std::size_t j = 0; j < n; ++j) {
            if (!masks[s * n + j]) continue;
            refiner.refine(a, j, b);
            std::swap(a, b);
        }
        out[s] = detail::entropy_of(a.mass.data(), a.groups);
    }
    return out;
}

MarginalEntropies sparse_marginal_entropies(const std::int64_t* outcomes, const double* probs, std::size_t m,
                                            std::size_t n) {
    std::vector<std::uint8_t> masks((2 * n + 1) * n, 0);
    for (std::size_t i = 0; i < n; ++i) {
        masks[i * n + i] = 1;  // {i}
        for (std::size_t j = 0; j < n; ++j) masks[(n + i) * n + j] = j != i;  // all but i
        masks[2 * n * n + i] = 1;  // everything
    }
    const auto h = sparse_subset_entropies(outcomes, probs, m, n, masks.data(), 2 * n + 1);
    MarginalEntropies out;
    out.singles.assign(h.begin(), h.begin() + static_cast<std::ptrdiff_t>(n));
    out.leave_one_outs.assign(h.begin() + static_cast<std::ptrdiff_t>(n),
                              h.begin() + static_cast<std::ptrdiff_t>(2 * n));
    out.joint = h[2 * n];
    return out;
}

}  // namespace mdmsched
