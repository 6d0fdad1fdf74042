// Inner loops of the entropy code: -sum p log p (blockwise over entropy_block.hpp's kernel), and summing out one
// tensor axis.
#pragma once

#include <bitset>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "entropy_block.hpp"

namespace mdmsched::detail {

// Block sums added in order with Neumaier's compensation: the error of a long sum stays near that of one block.
class BlockSum {
public:
    void add(double value) {
        const double t = sum_ + value;
        compensation_ += std::fabs(sum_) >= std::fabs(value) ? (sum_ - t) + value : (value - t) + sum_;
        sum_ = t;
    }
    double value() const { return sum_ + compensation_; }

private:
    double sum_ = 0.0, compensation_ = 0.0;
};

// Entropies are summed block by block (kEntropyBlock cells, block sums added in order), so an entropy of values
// produced a block at a time (entropy_of_scaled) has the same bits as one of the same values stored first.
inline double entropy_of(const double* x, std::size_t size) {
    if (size <= kEntropyBlock) return entropy_block(x, size);
    BlockSum acc;
    for (std::size_t b = 0; b < size; b += kEntropyBlock)
        acc.add(entropy_block(x + b, size - b < kEntropyBlock ? size - b : kEntropyBlock));
    return acc.value();
}

// entropy_of(x / divisor) without storing x / divisor: each block is divided into a stack buffer (divisions
// rounded as NumPy's p / total rounds them; this header is never compiled with fast-math).
inline double entropy_of_scaled(const double* x, std::size_t size, double divisor) {
    if (divisor == 1.0) return entropy_of(x, size);  // x / 1 == x
    double block[kEntropyBlock];
    BlockSum acc;
    for (std::size_t b = 0; b < size; b += kEntropyBlock) {
        const std::size_t len = size - b < kEntropyBlock ? size - b : kEntropyBlock;
        for (std::size_t i = 0; i < len; ++i) block[i] = x[b + i] / divisor;
        if (size <= kEntropyBlock) return entropy_block(block, len);  // one block: as entropy_of
        acc.add(entropy_block(block, len));
    }
    return acc.value();
}

// Number of coordinates in a subset mask (MSVC has no __builtin_popcountll).
inline std::size_t popcount64(std::uint64_t mask) {
#if defined(__GNUC__) || defined(__clang__)
    return static_cast<std::size_t>(__builtin_popcountll(mask));
#else
    return std::bitset<64>(mask).count();
#endif
}

// Binary axis with a small compile-time inner size, each input divided first: one flat loop over o (only the base
// of an unnormalised input is scaled, so this stays plain).
template <std::size_t Inner>
inline void sum_binary_axis_scaled(const double* in, double* out, std::size_t outer, double divisor) {
    for (std::size_t o = 0; o < outer; ++o)
        for (std::size_t i = 0; i < Inner; ++i)
            out[o * Inner + i] = in[o * 2 * Inner + i] / divisor + in[o * 2 * Inner + Inner + i] / divisor;
}

// out[o, i] = sum_t in[o, t, i] for a tensor viewed as (outer, d, inner): sums out one axis. The first two slabs are
// added in one pass (no copy-then-add); binary axes (most of the walk's sums) go to the kernel's sum_pairs.
inline void sum_axis(const double* in, double* out, std::size_t outer, std::size_t d, std::size_t inner) {
    if (d == 2) return sum_pairs(in, out, outer, inner);
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

// sum_axis of in / divisor, each input cell divided before it is added: the same bits as sum_axis over a stored
// in / divisor (same additions in the same order), without storing it.
inline void sum_axis_scaled(const double* in, double* out, std::size_t outer, std::size_t d, std::size_t inner,
                            double divisor) {
    if (divisor == 1.0) return sum_axis(in, out, outer, d, inner);
    if (d == 2 && inner == 2) return sum_binary_axis_scaled<2>(in, out, outer, divisor);
    if (d == 2 && inner == 4) return sum_binary_axis_scaled<4>(in, out, outer, divisor);
    if (d == 2 && inner == 8) return sum_binary_axis_scaled<8>(in, out, outer, divisor);
    if (d == 2 && inner == 16) return sum_binary_axis_scaled<16>(in, out, outer, divisor);
    if (inner == 1) {
        if (d == 2) {
            for (std::size_t o = 0; o < outer; ++o) out[o] = in[2 * o] / divisor + in[2 * o + 1] / divisor;
            return;
        }
        for (std::size_t o = 0; o < outer; ++o) {
            const double* row = in + o * d;
            double acc = 0.0;
            for (std::size_t t = 0; t < d; ++t) acc += row[t] / divisor;
            out[o] = acc;
        }
        return;
    }
    for (std::size_t o = 0; o < outer; ++o) {
        double* dst = out + o * inner;
        const double* src = in + o * d * inner;
        if (d == 1) {
            for (std::size_t i = 0; i < inner; ++i) dst[i] = src[i] / divisor;
            continue;
        }
        const double* second = src + inner;
        for (std::size_t i = 0; i < inner; ++i) dst[i] = src[i] / divisor + second[i] / divisor;
        for (std::size_t t = 2; t < d; ++t) {
            const double* slab = src + t * inner;
            for (std::size_t i = 0; i < inner; ++i) dst[i] += slab[i] / divisor;
        }
    }
}

}  // namespace mdmsched::detail
