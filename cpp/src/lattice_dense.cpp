// The subset-lattice walk over a dense tensor: each marginal is summed out of a parent with one more coordinate.
//
// Layout of the walk (see dense_lattice_shard in mdmsched/entropy.hpp): a shard fixes the membership of the first
// `lead` coordinates; tasks fix the next few; inside a task the unit roots (membership of coordinates < U fixed) are
// enumerated depth-first, and each unit is walked depth-first over coordinates >= U into its own row of size sums.
// Threads take tasks in any order; unit rows never mix, so results do not depend on threads, tasks or shards.
#include <algorithm>
#include <cmath>
#include <limits>
#include <new>
#include <string>

#include "entropy_kernels.hpp"
#include "lattice_scheduler.hpp"
#include "mdmsched/entropy.hpp"

namespace mdmsched {

namespace {

constexpr std::size_t kMaxUnitBits = 10;

// Cache-line-aligned storage for the walk's marginals, so no vector load of the sums straddles two lines.
template <typename T>
struct LineAligned {
    using value_type = T;
    static constexpr std::align_val_t kAlign{64};
    LineAligned() = default;
    template <typename U>
    LineAligned(const LineAligned<U>&) {}
    T* allocate(std::size_t count) { return static_cast<T*>(::operator new(count * sizeof(T), kAlign)); }
    void deallocate(T* pointer, std::size_t) { ::operator delete(pointer, kAlign); }
    template <typename U>
    bool operator==(const LineAligned<U>&) const {
        return true;
    }
    template <typename U>
    bool operator!=(const LineAligned<U>&) const {
        return false;
    }
};

class DenseWalker {
public:
    // base_divisor: the base holds p * base_divisor (the caller's unnormalised input) and is divided as it is read.
    DenseWalker(const double* base, double base_divisor, std::size_t base_size, std::uint64_t base_removed,
                const std::vector<std::size_t>& shape, std::size_t lead, std::size_t unit_bits, double* subset_out,
                double* unit_sums)
        : base_(base), base_divisor_(base_divisor), base_size_(base_size), base_removed_(base_removed), shape_(shape),
          n_(static_cast<int>(shape.size())), lead_(static_cast<int>(lead)), unit_bits_(static_cast<int>(unit_bits)),
          subset_out_(subset_out), unit_sums_(unit_sums), buffers_(shape.size() + 1) {}

    // Task `w`: bit b of w = coordinate lead + b is kept (in S), for the `width` coordinates after lead.
    void run(std::uint64_t w, int width, detail::WalkControl& control) {
        control_ = &control;
        const double* current = base_;
        std::size_t size = base_size_;
        std::uint64_t removed = base_removed_;
        std::size_t depth = 0;
        for (int b = 0; b < width; ++b) {
            if ((w >> b) & 1) continue;
            const int c = lead_ + b;
            current = remove_axis(current, size, removed, c, ++depth);
            size /= shape_[static_cast<std::size_t>(c)];
            removed |= std::uint64_t{1} << c;
        }
        units(current, size, removed, lead_ + width, depth);
    }

private:
    // Unit roots below this node: remove any further coordinates in [next, U), then walk the unit.
    void units(const double* marginal, std::size_t size, std::uint64_t removed, int next, std::size_t depth) {
        walk(marginal, size, removed, unit_bits_ - 1, depth, unit_row(removed));
        for (int c = next; c < unit_bits_; ++c) {
            if (control_->cancel.load(std::memory_order_relaxed)) return;
            const double* child = remove_axis(marginal, size, removed, c, depth + 1);
            units(child, size / shape_[static_cast<std::size_t>(c)], removed | (std::uint64_t{1} << c), c + 1,
                  depth + 1);
        }
    }

    double* unit_row(std::uint64_t removed) const {
        const std::uint64_t unit_mask = (std::uint64_t{1} << unit_bits_) - 1;
        const std::uint64_t kept = ~removed & unit_mask;
        return unit_sums_ + (kept >> lead_) * static_cast<std::size_t>(n_ + 1);
    }

    void record(const double* marginal, std::size_t size, std::uint64_t removed, double* row) {
        const std::uint64_t mask = kept_mask(removed);
        // H(X_empty) = 0 by definition; summing p would leave rounding in log(sum p).
        const double h = mask == 0 ? 0.0 : detail::entropy_of_scaled(marginal, size, divisor_of(marginal));
        add(h, mask, size, row);
    }

    std::uint64_t kept_mask(std::uint64_t removed) const {
        const std::uint64_t full = n_ == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << n_) - 1;
        return full & ~removed;
    }

    void add(double h, std::uint64_t mask, std::size_t size, double* row) {
        row[static_cast<std::size_t>(detail::popcount64(mask))] += h;
        if (subset_out_) subset_out_[mask >> lead_] = h;
        control_->done.fetch_add(size, std::memory_order_relaxed);
    }

    // A leaf of the walk (the last coordinate, binary, summed out of a normalised parent; not the empty set): its cells
    // are needed only for their entropy, so the kernel's pair kernel takes them straight from the parent, block by
    // block, and they are never stored. Same sums, blocks and accumulation as record() on a stored child: same bits.
    void record_leaf(const double* parent, std::size_t size, std::uint64_t removed, double* row) {
        double h;
        if (size <= detail::kEntropyBlock) {
            h = detail::entropy_block_of_pairs(parent, size);
        } else {
            detail::BlockSum acc;
            for (std::size_t b = 0; b < size; b += detail::kEntropyBlock)
                acc.add(detail::entropy_block_of_pairs(parent + 2 * b, std::min(size - b, detail::kEntropyBlock)));
            h = acc.value();
        }
        add(h, kept_mask(removed), size, row);
    }

    // The unit's depth-first walk: this node, then children removing coordinates > last (all >= U).
    void walk(const double* marginal, std::size_t size, std::uint64_t removed, int last, std::size_t depth,
              double* row) {
        record(marginal, size, removed, row);
        for (int j = last + 1; j < n_; ++j) {
            if (control_->cancel.load(std::memory_order_relaxed)) return;
            const std::uint64_t child_removed = removed | (std::uint64_t{1} << j);
            if (j == n_ - 1 && shape_.back() == 2 && divisor_of(marginal) == 1.0 && kept_mask(child_removed) != 0) {
                record_leaf(marginal, size / 2, child_removed, row);  // no children: j is the last coordinate
                continue;
            }
            const double* child = remove_axis(marginal, size, removed, j, depth + 1);
            walk(child, size / shape_[static_cast<std::size_t>(j)], removed | (std::uint64_t{1} << j), j, depth + 1,
                 row);
        }
    }

    // Sums coordinate j out of `marginal` (whose axes are the coordinates not in `removed`) into buffers_[depth].
    const double* remove_axis(const double* marginal, std::size_t size, std::uint64_t removed, int j,
                              std::size_t depth) {
        std::size_t inner = 1;
        for (int i = j + 1; i < n_; ++i)
            if (!((removed >> i) & 1)) inner *= shape_[static_cast<std::size_t>(i)];
        const std::size_t d = shape_[static_cast<std::size_t>(j)];
        const std::size_t outer = size / (d * inner);
        auto& buffer = buffers_[depth];
        if (buffer.size() < outer * inner) buffer.resize(outer * inner);
        detail::sum_axis_scaled(marginal, buffer.data(), outer, d, inner, divisor_of(marginal));
        return buffer.data();
    }

    // Only the base can be unnormalised: every marginal below it was divided when it was summed.
    double divisor_of(const double* marginal) const { return marginal == base_ ? base_divisor_ : 1.0; }

    const double* base_;
    double base_divisor_;
    std::size_t base_size_;
    std::uint64_t base_removed_;
    const std::vector<std::size_t>& shape_;
    int n_, lead_, unit_bits_;
    double* subset_out_;
    double* unit_sums_;
    std::vector<std::vector<double, LineAligned<double>>>
        buffers_;  // one marginal per depth below the base: the chain this thread holds
    detail::WalkControl* control_ = nullptr;
};

}  // namespace

std::size_t lattice_unit_bits(std::size_t n) { return std::min(n, kMaxUnitBits); }

ShardResult dense_lattice_shard(const double* p, const std::vector<std::size_t>& shape, std::size_t lead,
                                std::uint64_t pattern, bool keep_subsets, unsigned threads, const Monitor& monitor,
                                double total) {
    const std::size_t n = shape.size();
    if (!(total > 0.0) || !std::isfinite(total))
        throw std::invalid_argument("total must be a finite positive number, got " + std::to_string(total));
    if (n == 0 || n > 62)
        throw std::invalid_argument("the tensor must have 1 to 62 dimensions, got " + std::to_string(n));
    const std::size_t unit_bits = lattice_unit_bits(n);
    if (lead > unit_bits)
        throw std::invalid_argument("lead must be <= " + std::to_string(unit_bits) + " (at most 2^" +
                                    std::to_string(unit_bits) + " shards at n = " + std::to_string(n) + ")");
    if (pattern >> lead) throw std::invalid_argument("pattern must have only its lowest `lead` bits set");
    std::size_t total_size = 1;
    double cells = 1.0;  // this shard's marginal cells: the progress total
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t q = shape[i];
        if (q == 0) throw std::invalid_argument("every alphabet must have at least one symbol");
        total_size *= q;
        cells *= i < lead ? (((pattern >> i) & 1) ? static_cast<double>(q) : 1.0) : static_cast<double>(1 + q);
    }
    // The shard's base: p with its excluded leading coordinates summed out, in increasing order (the walk's path).
    std::vector<double> base_storage, scratch;
    const double* base = p;
    double divisor = total;  // p itself is unnormalised; the first sum divides it (same bits as dividing first)
    std::size_t size = total_size;
    std::uint64_t removed = 0;
    for (std::size_t c = 0; c < lead; ++c) {
        if ((pattern >> c) & 1) continue;
        std::size_t inner = 1;
        for (std::size_t i = c + 1; i < n; ++i) inner *= shape[i];
        const std::size_t outer = size / (shape[c] * inner);
        scratch.resize(outer * inner);
        detail::sum_axis_scaled(base, scratch.data(), outer, shape[c], inner, divisor);
        divisor = 1.0;
        base_storage.swap(scratch);
        base = base_storage.data();
        size = outer * inner;
        removed |= std::uint64_t{1} << c;
    }
    scratch = std::vector<double>();
    ShardResult result;
    if (keep_subsets) result.subset_entropy.assign(std::size_t{1} << (n - lead), 0.0);
    result.unit_sums.assign((std::size_t{1} << (unit_bits - lead)) * (n + 1), 0.0);
    // Tasks fix the next `width` coordinates: enough tasks to balance the threads (results do not depend on it).
    const unsigned workers = detail::resolve_threads(threads);
    int width = 0;
    while (static_cast<std::size_t>(width) < unit_bits - lead && (std::size_t{1} << width) < 4 * std::size_t{workers})
        ++width;
    if (workers == 1) width = 0;
    std::vector<DenseWalker> walkers;
    walkers.reserve(workers);
    for (unsigned i = 0; i < workers; ++i)
        walkers.emplace_back(base, divisor, size, removed, shape, lead, unit_bits,
                             keep_subsets ? result.subset_entropy.data() : nullptr, result.unit_sums.data());
    detail::run_tasks(std::size_t{1} << width, workers, cells, monitor,
                      [&](unsigned worker, std::size_t t, detail::WalkControl& control) {
                          // Most-kept (largest) tasks first, for balance: w = all ones down to 0.
                          walkers[worker].run((std::uint64_t{1} << width) - 1 - t, width, control);
                      });
    return result;
}

LatticeResult dense_lattice(const double* p, const std::vector<std::size_t>& shape, bool keep_subsets, unsigned threads,
                            const Monitor& monitor, double total) {
    ShardResult shard = dense_lattice_shard(p, shape, 0, 0, keep_subsets, threads, monitor, total);
    const std::size_t n = shape.size();
    LatticeResult result;
    result.subset_entropy = std::move(shard.subset_entropy);
    result.size_sums.assign(n + 1, 0.0);
    const std::size_t units = shard.unit_sums.size() / (n + 1);
    for (std::size_t u = 0; u < units; ++u)  // unit order, one addition per unit: what a sharded merge repeats
        for (std::size_t m = 0; m <= n; ++m) result.size_sums[m] += shard.unit_sums[u * (n + 1) + m];
    return result;
}

double entropy(const double* p, std::size_t size) { return detail::entropy_of(p, size); }

}  // namespace mdmsched
