// Inner loops of the entropy code: -sum p log p, and summing out one tensor axis.
#pragma once

#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace mdmsched::detail {

// -sum x log x over x >= DBL_MIN (smaller x contribute less than 1e-305 each). One libm log per cell is the floor
// of the lattice walk's cost: measured here, glibc's log (~3 ns) beat hand-written branch-free and table-driven
// versions, which the compiler did not vectorise for the baseline x86-64 target.
inline double entropy_of(const double* x, std::size_t size) {
    double acc[4] = {0.0, 0.0, 0.0, 0.0};  // fixed interleaving: deterministic, and the four logs pipeline
    std::size_t i = 0;
    for (; i + 4 <= size; i += 4)
        for (std::size_t b = 0; b < 4; ++b)
            if (x[i + b] >= DBL_MIN) acc[b] -= x[i + b] * std::log(x[i + b]);
    for (; i < size; ++i)
        if (x[i] >= DBL_MIN) acc[0] -= x[i] * std::log(x[i]);
    return (acc[0] + acc[1]) + (acc[2] + acc[3]);
}

// out[o, i] = sum_t in[o, t, i] for a tensor viewed as (outer, d, inner): sums out one axis.
inline void sum_axis(const double* in, double* out, std::size_t outer, std::size_t d, std::size_t inner) {
    if (inner == 1) {
        for (std::size_t o = 0; o < outer; ++o) {
            const double* row = in + o * d;
            double acc = 0.0;
            for (std::size_t t = 0; t < d; ++t) acc += row[t];
            out[o] = acc;
        }
        return;
    }
    for (std::size_t o = 0; o < outer; ++o) {
        double* dst = out + o * inner;
        const double* src = in + o * d * inner;
        std::memcpy(dst, src, inner * sizeof(double));
        for (std::size_t t = 1; t < d; ++t) {
            const double* slab = src + t * inner;
            for (std::size_t i = 0; i < inner; ++i) dst[i] += slab[i];
        }
    }
}

}  // namespace mdmsched::detail
