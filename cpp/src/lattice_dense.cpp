// The subset-lattice walk over a dense tensor: each marginal is summed out of a parent with one more coordinate.
#include <limits>
#include <string>

#include "entropy_kernels.hpp"
#include "lattice_scheduler.hpp"
#include "mdmsched/entropy.hpp"

namespace mdmsched {

namespace {

class DenseWalker {
public:
    DenseWalker(const double* p, const std::vector<std::size_t>& shape, double* subset_out)
        : p_(p), shape_(shape), n_(static_cast<int>(shape.size())), subset_out_(subset_out), buffers_(shape.size() + 1) {
        total_size_ = 1;
        for (auto q : shape) total_size_ *= q;
    }

    // Walks one task: `removed` are the coordinates summed out (increasing), the node's mask is their complement.
    void run(const detail::LatticeTask& task, double* size_sums, detail::WalkControl& control) {
        control_ = &control;
        size_sums_ = size_sums;
        const double* current = p_;
        std::size_t size = total_size_;
        std::uint64_t removed = 0;
        for (std::size_t d = 0; d < task.chosen.size(); ++d) {
            current = remove_axis(current, size, removed, task.chosen[d], d + 1);
            size /= shape_[static_cast<std::size_t>(task.chosen[d])];
            removed |= std::uint64_t{1} << task.chosen[d];
        }
        const int last = task.chosen.empty() ? -1 : task.chosen.back();
        if (task.subtree)
            walk(current, size, removed, last, task.chosen.size());
        else
            record(current, size, removed);
    }

private:
    void record(const double* marginal, std::size_t size, std::uint64_t removed) {
        const std::uint64_t full = n_ == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << n_) - 1;
        const std::uint64_t mask = full & ~removed;
        // H(X_empty) = 0 by definition; summing p would leave rounding in log(sum p).
        const double h = mask == 0 ? 0.0 : detail::entropy_of(marginal, size);
        size_sums_[detail::popcount64(mask)] += h;
        if (subset_out_) subset_out_[mask] = h;
        control_->done.fetch_add(size, std::memory_order_relaxed);
    }

    void walk(const double* marginal, std::size_t size, std::uint64_t removed, int last, std::size_t depth) {
        record(marginal, size, removed);
        for (int j = last + 1; j < n_; ++j) {
            if (control_->cancel.load(std::memory_order_relaxed)) return;
            const double* child = remove_axis(marginal, size, removed, j, depth + 1);
            walk(child, size / shape_[static_cast<std::size_t>(j)], removed | (std::uint64_t{1} << j), j, depth + 1);
        }
    }

    // Sums coordinate j out of `marginal` (whose axes are the coordinates not in `removed`) into buffers_[depth].
    const double* remove_axis(const double* marginal, std::size_t size, std::uint64_t removed, int j, std::size_t depth) {
        std::size_t inner = 1;
        for (int i = j + 1; i < n_; ++i)
            if (!((removed >> i) & 1)) inner *= shape_[static_cast<std::size_t>(i)];
        const std::size_t d = shape_[static_cast<std::size_t>(j)];
        const std::size_t outer = size / (d * inner);
        auto& buffer = buffers_[depth];
        if (buffer.size() < outer * inner) buffer.resize(outer * inner);
        detail::sum_axis(marginal, buffer.data(), outer, d, inner);
        return buffer.data();
    }

    const double* p_;
    const std::vector<std::size_t>& shape_;
    int n_;
    double* subset_out_;
    std::vector<std::vector<double>> buffers_;  // one marginal per depth: the chain this thread holds
    std::size_t total_size_ = 1;
    detail::WalkControl* control_ = nullptr;
    double* size_sums_ = nullptr;
};

}  // namespace

LatticeResult dense_lattice(const double* p, const std::vector<std::size_t>& shape, bool keep_subsets,
                            unsigned threads, const Monitor& monitor) {
    const std::size_t n = shape.size();
    if (n == 0 || n > 62) throw std::invalid_argument("the tensor must have 1 to 62 dimensions, got " + std::to_string(n));
    double cells = 1.0;  // sum over subsets of marginal sizes = prod (1 + q_i): the progress total
    for (auto q : shape) {
        if (q == 0) throw std::invalid_argument("every alphabet must have at least one symbol");
        cells *= static_cast<double>(1 + q);
    }
    return detail::walk_lattice(n, keep_subsets, threads, cells, monitor,
                                [&](double* subset_out) { return DenseWalker(p, shape, subset_out); });
}

double entropy(const double* p, std::size_t size) { return detail::entropy_of(p, size); }

}  // namespace mdmsched
