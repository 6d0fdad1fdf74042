// out[o, i] = in[o, 0, i] + in[o, 1, i] in plain loops and in AVX2 (see pair_sum.hpp). About half of the walk's
// marginal cells come from inner sizes 1 and 2, where one output needs neighbouring inputs: plain loops pay a shuffle
// or a scalar load per output there, AVX2 one horizontal add or lane swap per four.
#include "pair_sum.hpp"

#if defined(MDMSCHED_VECTOR_LOG)
#include <immintrin.h>
#endif

namespace mdmsched::detail {

namespace {

// A small compile-time inner size as one flat loop over o: a per-o loop would pay its setup per 2..16 outputs.
template <std::size_t Inner>
void pair_sum_fixed(const double* in, double* out, std::size_t outer) {
    for (std::size_t o = 0; o < outer; ++o)
        for (std::size_t i = 0; i < Inner; ++i)
            out[o * Inner + i] = in[o * 2 * Inner + i] + in[o * 2 * Inner + Inner + i];
}

}  // namespace

void pair_sum_baseline(const double* in, double* out, std::size_t outer, std::size_t inner) {
    switch (inner) {
        case 1: return pair_sum_fixed<1>(in, out, outer);
        case 2: return pair_sum_fixed<2>(in, out, outer);
        case 4: return pair_sum_fixed<4>(in, out, outer);
        case 8: return pair_sum_fixed<8>(in, out, outer);
        case 16: return pair_sum_fixed<16>(in, out, outer);
        default: break;
    }
    for (std::size_t o = 0; o < outer; ++o) {
        const double* first = in + o * 2 * inner;
        const double* second = first + inner;
        double* dst = out + o * inner;
        for (std::size_t i = 0; i < inner; ++i) dst[i] = first[i] + second[i];
    }
}

#if defined(MDMSCHED_VECTOR_LOG)

namespace {

// Four outputs from eight adjacent inputs: hadd gives (a0+a1, b0+b1, a2+a3, b2+b3), the lane permute restores order.
__attribute__((target("avx2"))) void pairs_avx2(const double* in, double* out, std::size_t outer) {
    std::size_t o = 0;
    for (; o + 4 <= outer; o += 4) {
        const __m256d a = _mm256_loadu_pd(in + 2 * o), b = _mm256_loadu_pd(in + 2 * o + 4);
        _mm256_storeu_pd(out + o, _mm256_permute4x64_pd(_mm256_hadd_pd(a, b), 0xD8));
    }
    for (; o < outer; ++o) out[o] = in[2 * o] + in[2 * o + 1];
}

// Inner size 2: the low 128-bit halves of (a, b) plus their high halves are four outputs.
__attribute__((target("avx2"))) void pairs_of_two_avx2(const double* in, double* out, std::size_t outer) {
    std::size_t o = 0;
    for (; o + 2 <= outer; o += 2) {
        const __m256d a = _mm256_loadu_pd(in + 4 * o), b = _mm256_loadu_pd(in + 4 * o + 4);
        const __m256d low = _mm256_permute2f128_pd(a, b, 0x20), high = _mm256_permute2f128_pd(a, b, 0x31);
        _mm256_storeu_pd(out + 2 * o, _mm256_add_pd(low, high));
    }
    for (; o < outer; ++o)
        for (std::size_t i = 0; i < 2; ++i) out[2 * o + i] = in[4 * o + i] + in[4 * o + 2 + i];
}

// Inner size a multiple of 4: whole vectors of the first slab plus the second (Inner = 0: the run-time `inner`;
// 4, 8, 16 fixed, so the loop over o is flat).
template <std::size_t Inner>
__attribute__((target("avx2"))) void slabs_avx2(const double* in, double* out, std::size_t outer, std::size_t inner) {
    if (Inner) inner = Inner;
    for (std::size_t o = 0; o < outer; ++o) {
        const double* first = in + o * 2 * inner;
        const double* second = first + inner;
        double* dst = out + o * inner;
        for (std::size_t i = 0; i < inner; i += 4)
            _mm256_storeu_pd(dst + i, _mm256_add_pd(_mm256_loadu_pd(first + i), _mm256_loadu_pd(second + i)));
    }
}

}  // namespace

void pair_sum_avx2(const double* in, double* out, std::size_t outer, std::size_t inner) {
    if (inner == 1) return pairs_avx2(in, out, outer);
    if (inner == 2) return pairs_of_two_avx2(in, out, outer);
    if (inner == 4) return slabs_avx2<4>(in, out, outer, inner);
    if (inner == 8) return slabs_avx2<8>(in, out, outer, inner);
    if (inner == 16) return slabs_avx2<16>(in, out, outer, inner);
    if (inner % 4 == 0) return slabs_avx2<0>(in, out, outer, inner);
    pair_sum_baseline(in, out, outer, inner);
}

#endif

}  // namespace mdmsched::detail
