// Inner loops of the entropy code: -sum p log p, and summing out one tensor axis.
#pragma once

#include <bitset>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace mdmsched::detail {

// -sum x log x over x >= DBL_MIN (smaller x contribute less than 1e-305 each). Defined in entropy_sum.cpp, which
// is compiled to call glibc's vector log where available: one log per marginal cell is the walk's cost floor.
double entropy_of(const double* x, std::size_t size);

// Number of coordinates in a subset mask (MSVC has no __builtin_popcountll).
inline std::size_t popcount64(std::uint64_t mask) {
#if defined(__GNUC__) || defined(__clang__)
    return static_cast<std::size_t>(__builtin_popcountll(mask));
#else
    return std::bitset<64>(mask).count();
#endif
}

// out[o, i] = sum_t in[o, t, i] for a tensor viewed as (outer, d, inner): sums out one axis. The first two slabs are
// added in one pass (no copy-then-add), and the common binary last-axis case gets its own pairwise loop.
inline void sum_axis(const double* in, double* out, std::size_t outer, std::size_t d, std::size_t inner) {
    if (inner == 1) {
        if (d == 2) {
            for (std::size_t o = 0; o < outer; ++o) out[o] = in[2 * o] + in[2 * o + 1];
            return;
        }
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
        if (d == 1) {
            std::memcpy(dst, src, inner * sizeof(double));
            continue;
        }
        const double* second = src + inner;
        for (std::size_t i = 0; i < inner; ++i) dst[i] = src[i] + second[i];
        for (std::size_t t = 2; t < d; ++t) {
            const double* slab = src + t * inner;
            for (std::size_t i = 0; i < inner; ++i) dst[i] += slab[i];
        }
    }
}

}  // namespace mdmsched::detail
