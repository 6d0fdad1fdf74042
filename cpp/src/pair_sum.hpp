// Summing out a binary axis, out[o, i] = in[o, 0, i] + in[o, 1, i]: the lattice walk's work besides its logarithms.
// One copy per instruction set (pair_sum.cpp, compiled without fast-math); entropy_sum.cpp pairs each with the
// -sum p log p kernel of the same instruction set. Every copy computes each output as the same one IEEE addition
// in[o, 0, i] + in[o, 1, i], so all copies give the same bits. Internal header.
#pragma once

#include <cstddef>

namespace mdmsched::detail {

using PairSum = void (*)(const double* in, double* out, std::size_t outer, std::size_t inner);

// Plain loops (the compiler's baseline vectorisation): every build.
void pair_sum_baseline(const double* in, double* out, std::size_t outer, std::size_t inner);

#if defined(MDMSCHED_VECTOR_LOG)
// 4-wide AVX2 (the entropy kernels avx2 and avx512f: 8-wide sums measured no faster, the loads bound them).
void pair_sum_avx2(const double* in, double* out, std::size_t outer, std::size_t inner);
#endif

}  // namespace mdmsched::detail
