// The -sum p log p kernel of entropy_sum.cpp (compiled with fast-math and one copy per instruction set), declared
// apart from entropy_kernels.hpp so that file's inline helpers are never compiled with fast-math.
#pragma once

#include <cstddef>

namespace mdmsched::detail {

constexpr std::size_t kEntropyBlock = 1024;

// -sum x log x over x >= DBL_MIN (smaller x contribute less than 1e-305 each) for size <= kEntropyBlock, with the
// widest kernel this CPU runs. Defined in entropy_sum.cpp, which is compiled to call glibc's vector log where
// available: one log per marginal cell is the walk's cost floor.
double entropy_block(const double* x, std::size_t size);

// entropy_block of the `size` pair sums x[2i] + x[2i+1], without storing them: the same bits.
double entropy_block_of_pairs(const double* x, std::size_t size);

// out[o, i] = in[o, 0, i] + in[o, 1, i] (a binary axis summed out) with the kernel's instruction set; the same bits
// whichever kernel (pair_sum.hpp).
void sum_pairs(const double* in, double* out, std::size_t outer, std::size_t inner);

}  // namespace mdmsched::detail
