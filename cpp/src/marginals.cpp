// The few marginals TC, DTC and exchangeable curves need, summed straight out of a dense tensor (no lattice walk).
#include <string>

#include "entropy_kernels.hpp"
#include "mdmsched/entropy.hpp"

namespace mdmsched {

namespace {

std::size_t product(const std::vector<std::size_t>& shape, std::size_t from, std::size_t to) {
    std::size_t out = 1;
    for (std::size_t i = from; i < to; ++i) out *= shape[i];
    return out;
}

void check_shape(const std::vector<std::size_t>& shape) {
    if (shape.empty()) throw std::invalid_argument("the tensor must have at least one dimension");
    for (auto q : shape)
        if (q == 0) throw std::invalid_argument("every alphabet must have at least one symbol");
}

}  // namespace

MarginalEntropies dense_marginal_entropies(const double* p, const std::vector<std::size_t>& shape) {
    check_shape(shape);
    const std::size_t n = shape.size(), total = product(shape, 0, n);
    MarginalEntropies out;
    out.joint = detail::entropy_of(p, total);
    std::vector<double> buffer;
    for (std::size_t i = 0; i < n; ++i) {
        // H(X_{-i}): sum out axis i.
        const std::size_t outer = product(shape, 0, i), inner = product(shape, i + 1, n);
        buffer.resize(outer * inner);
        detail::sum_axis(p, buffer.data(), outer, shape[i], inner);
        out.leave_one_outs.push_back(detail::entropy_of(buffer.data(), buffer.size()));
        // H(X_i): view as (outer, q_i, inner) and sum the outer and inner blocks, in a fixed order.
        std::vector<double> single(shape[i], 0.0);
        for (std::size_t o = 0; o < outer; ++o)
            for (std::size_t t = 0; t < shape[i]; ++t) {
                const double* row = p + (o * shape[i] + t) * inner;
                double acc = 0.0;
                for (std::size_t r = 0; r < inner; ++r) acc += row[r];
                single[t] += acc;
            }
        out.singles.push_back(detail::entropy_of(single.data(), single.size()));
    }
    return out;
}

std::vector<double> dense_prefix_entropies(const double* p, const std::vector<std::size_t>& shape) {
    check_shape(shape);
    const std::size_t n = shape.size();
    std::vector<double> out(n + 1, 0.0), current(p, p + product(shape, 0, n)), next;
    out[n] = detail::entropy_of(current.data(), current.size());
    for (std::size_t m = n; m-- > 1;) {  // sum out the last remaining axis: X_{0..m-1} from X_{0..m}
        next.resize(current.size() / shape[m]);
        detail::sum_axis(current.data(), next.data(), next.size(), shape[m], 1);
        current.swap(next);
        out[m] = detail::entropy_of(current.data(), current.size());
    }
    return out;
}

}  // namespace mdmsched
