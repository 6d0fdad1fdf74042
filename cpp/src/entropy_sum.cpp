// -sum p log p over a buffer: the innermost loop of the lattice walk, one logarithm per marginal cell.
//
// With GCC on x86-64 Linux, CMake compiles this file alone with -ffast-math -fopenmp-simd and links glibc's libmvec,
// so the loop below calls the 2- or 4-wide vector log (about 3x faster than scalar log here); target_clones picks the
// AVX2 version at load time where the CPU has it. libmvec's log is accurate to a few ulp. Fast-math is confined to this
// file and not used for linking (so no flush-to-zero mode is switched on for the process). Results are deterministic
// on a given machine: every subset's entropy runs through this same loop whatever the thread count.
#include <cfloat>
#include <cmath>
#include <cstddef>

#include "entropy_kernels.hpp"

namespace mdmsched::detail {

#if defined(MDMSCHED_VECTOR_LOG)
__attribute__((target_clones("avx2", "default")))
#endif
double entropy_of(const double* x, std::size_t size) {
    double acc = 0.0;
#if defined(MDMSCHED_VECTOR_LOG)
#pragma omp simd reduction(+ : acc)
#endif
    for (std::size_t i = 0; i < size; ++i) {
        const double v = x[i] >= DBL_MIN ? x[i] : 1.0;  // log(1) = 0: zero cells (and NaN) contribute nothing
        acc -= v * std::log(v);
    }
    return acc;
}

}  // namespace mdmsched::detail
