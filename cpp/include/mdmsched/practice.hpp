// Sequential count recursions of peer samplers (SPEC §6): each pass's count depends on what is still masked, so the
// loop runs here (O(k), no allocation beyond the result) instead of k Python iterations.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace mdmsched {

// dllm get_num_transfer_tokens (stochastic=False). masked_fraction[i] = float32(1 - alpha(i / k)), i = 0..k. Pass j
// reveals c_j = min(M, round_half_even(double(M) * (1 - double(r_j)))) of the M still masked, with the float32 ratio
// r_j = masked_fraction[k-1-j] / masked_fraction[k-j]; it stops once M = 0. Throws std::invalid_argument when a
// count is negative (alpha increasing in t) or positions are left masked (alpha(0) != 1).
std::vector<std::int64_t> dllm_counts(std::int64_t n, const float* masked_fraction, std::size_t size);

// Dream _sample: pass i < k-1 reveals trunc(float32(M) * shrink[i]) (float32 product; the int64 -> float32
// conversion rounds once, as torch's does), the last pass the rest. k = size >= 1.
std::vector<std::int64_t> dream_counts(std::int64_t n, const float* shrink, std::size_t size);

}  // namespace mdmsched
