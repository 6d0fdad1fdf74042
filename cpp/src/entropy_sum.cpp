// -sum p log p over a buffer: the innermost loop of the lattice walk, one logarithm per marginal cell. Each kernel
// comes with its instruction set's binary-axis sums (pair_sum.hpp) and a pair kernel for the walk's leaves (the entropy
// of pair sums that are never stored), so one kernel name fixes the instruction set of the whole walk.
//
// With GCC on x86-64 Linux, CMake compiles this file alone with -ffast-math -fopenmp-simd and links glibc's libmvec,
// so the loop calls libmvec's vector log: 2-wide (SSE2 baseline), 4-wide (AVX2) or 8-wide (AVX-512, about 1.27x
// faster than AVX2 on Zen 4). One copy of the loop is compiled per instruction set and the widest the CPU runs is
// picked once, at first use (explicit run-time dispatch: no ifunc, so the choice can be reported and tests can run
// every kernel the CPU has). libmvec's log is accurate to a few ulp. Fast-math is confined to this file and not used
// for linking (no flush-to-zero mode is switched on for the process). Results are deterministic on a given machine:
// every entropy runs through the same kernel whatever the thread count. Kernels of different widths add in different
// orders, so machines with and without AVX-512 may differ in the last bits.
#include <atomic>
#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "entropy_block.hpp"
#include "mdmsched/entropy.hpp"
#include "pair_sum.hpp"

namespace mdmsched::detail {

namespace {

using Kernel = double (*)(const double*, std::size_t);

#if defined(MDMSCHED_VECTOR_LOG)
#define MDMSCHED_INLINE_LOOP __attribute__((always_inline)) inline
#else
#define MDMSCHED_INLINE_LOOP inline
#endif

// The loop every kernel compiles; inlined into each target so it is vectorised for that target's width.
MDMSCHED_INLINE_LOOP double plogp_loop(const double* x, std::size_t size) {
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

// -sum v log v over v_i = x[2i] + x[2i+1] (a leaf of the walk: the last binary coordinate summed out), the sums never
// stored: the same accumulation as plogp_loop over stored sums (checked bit for bit by the tests). Used with AVX-512
// only, where it measured 2% faster on the whole walk; the AVX2 code of this loop was 3% slower than summing into a
// stack buffer first (pairs_through<>).
#if defined(MDMSCHED_VECTOR_LOG)
MDMSCHED_INLINE_LOOP double pair_plogp_loop(const double* x, std::size_t size) {
    double acc = 0.0;
#pragma omp simd reduction(+ : acc)
    for (std::size_t i = 0; i < size; ++i) {
        const double s = x[2 * i] + x[2 * i + 1];
        const double v = s >= DBL_MIN ? s : 1.0;
        acc -= v * std::log(v);
    }
    return acc;
}
#endif

// The pair kernel as the pair sums into an in-cache stack buffer, then the plain kernel.
template <PairSum sum, Kernel kernel>
double pairs_through(const double* x, std::size_t size) {
    double block[kEntropyBlock];
    sum(x, block, size, 1);
    return kernel(block, size);
}

double kernel_baseline(const double* x, std::size_t size) { return plogp_loop(x, size); }

struct KernelEntry {
    const char* name;
    Kernel kernel;
    Kernel pair_kernel;  // the kernel over the `size` pair sums x[2i] + x[2i+1], size <= kEntropyBlock
    PairSum pair_sum;  // the same instruction set's binary-axis sums (pair_sum.hpp): one name, one ISA for the walk
    bool (*supported)();
};

#if defined(MDMSCHED_VECTOR_LOG)
__attribute__((target("avx2"))) double kernel_avx2(const double* x, std::size_t size) { return plogp_loop(x, size); }
__attribute__((target("avx512f"))) double kernel_avx512(const double* x, std::size_t size) {
    return plogp_loop(x, size);
}
__attribute__((target("avx512f"))) double pairs_avx512(const double* x, std::size_t size) {
    return pair_plogp_loop(x, size);
}
bool has_avx512() { return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2"); }
bool has_avx2() { return __builtin_cpu_supports("avx2"); }
bool always() { return true; }
// Widest first: the first supported entry is the default.
const KernelEntry kKernels[] = {
    {"avx512f", kernel_avx512, pairs_avx512, pair_sum_avx2, has_avx512},
    {"avx2", kernel_avx2, pairs_through<pair_sum_avx2, kernel_avx2>, pair_sum_avx2, has_avx2},
    {"sse2", kernel_baseline, pairs_through<pair_sum_baseline, kernel_baseline>, pair_sum_baseline, always}};
#else
bool always() { return true; }
const KernelEntry kKernels[] = {
    {"scalar", kernel_baseline, pairs_through<pair_sum_baseline, kernel_baseline>, pair_sum_baseline, always}};
#endif

const KernelEntry* widest_supported() {
#if defined(MDMSCHED_VECTOR_LOG)
    __builtin_cpu_init();  // needed when the first call comes from a static constructor
#endif
    for (const auto& entry : kKernels)
        if (entry.supported()) return &entry;
    return &kKernels[std::size(kKernels) - 1];
}

std::atomic<const KernelEntry*>& current() {
    static std::atomic<const KernelEntry*> chosen{widest_supported()};  // thread-safe one-time initialisation
    return chosen;
}

const KernelEntry& find(const std::string& name) {
    for (const auto& entry : kKernels)
        if (name == entry.name) {
            if (!entry.supported()) throw std::invalid_argument("this CPU cannot run the " + name + " kernel");
            return entry;
        }
    throw std::invalid_argument("unknown entropy kernel '" + name + "'");
}

}  // namespace

double entropy_block(const double* x, std::size_t size) {
    return current().load(std::memory_order_relaxed)->kernel(x, size);
}

double entropy_block_of_pairs(const double* x, std::size_t size) {
    return current().load(std::memory_order_relaxed)->pair_kernel(x, size);
}

void sum_pairs(const double* in, double* out, std::size_t outer, std::size_t inner) {
    current().load(std::memory_order_relaxed)->pair_sum(in, out, outer, inner);
}

}  // namespace mdmsched::detail

namespace mdmsched {

using detail::find;
using detail::KernelEntry;
using detail::widest_supported;

std::vector<std::string> entropy_kernels() {
    std::vector<std::string> names;
    for (const auto& entry : detail::kKernels)
        if (entry.supported()) names.emplace_back(entry.name);
    return names;
}

std::string entropy_kernel() { return detail::current().load()->name; }

std::string use_entropy_kernel(const std::string& name) {
    const KernelEntry* entry = name.empty() ? widest_supported() : &find(name);
    return detail::current().exchange(entry)->name;
}

}  // namespace mdmsched
