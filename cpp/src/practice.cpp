// Peer samplers' count recursions. Compiled with -ffp-contract=off (CMakeLists.txt): every float and double
// operation is rounded on its own, as NumPy and torch round them, so the counts are the peers' count for count.
#include "mdmsched/practice.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace mdmsched {

namespace {

std::string count_text(double value) {
    // a count of -inf (float32 ratio overflow) has no int64: print the double
    if (std::fabs(value) < 9.2e18) return std::to_string(static_cast<std::int64_t>(value));
    return std::to_string(value);
}

}  // namespace

std::vector<std::int64_t> dllm_counts(std::int64_t n, const float* masked_fraction, std::size_t size) {
    if (n < 1) throw std::invalid_argument("n must be >= 1, got " + std::to_string(n));
    if (size < 2) throw std::invalid_argument("alpha_grid must have k + 1 >= 2 values");
    const std::size_t k = size - 1;
    std::vector<std::int64_t> counts;
    std::int64_t masked = n;
    for (std::size_t j = 0; j < k && masked > 0; ++j) {
        const float ratio = masked_fraction[k - 1 - j] / masked_fraction[k - j];
        const double reveal = std::nearbyint(static_cast<double>(masked) * (1.0 - static_cast<double>(ratio)));
        if (!(reveal >= 0.0))  // negative, or NaN from a zero denominator the caller did not refuse
            throw std::invalid_argument("alpha_grid must be non-increasing in t (pass " + std::to_string(j) +
                                        " would reveal " + count_text(reveal) + " tokens)");
        // reveal >= masked also covers counts past int64 (a ratio far below 0): capped at M
        const std::int64_t c = reveal >= static_cast<double>(masked) ? masked : static_cast<std::int64_t>(reveal);
        counts.push_back(c);
        masked -= c;
    }
    if (masked > 0)
        throw std::invalid_argument("alpha_grid leaves " + std::to_string(masked) + " of n = " + std::to_string(n) +
                                    " positions masked (dllm needs alpha = 1 at t = 0)");
    return counts;
}

std::vector<std::int64_t> dream_counts(std::int64_t n, const float* shrink, std::size_t size) {
    if (n < 1) throw std::invalid_argument("n must be >= 1, got " + std::to_string(n));
    if (size < 1) throw std::invalid_argument("shrink must have k >= 1 values");
    std::vector<std::int64_t> counts(size);
    std::int64_t masked = n;
    for (std::size_t i = 0; i + 1 < size; ++i) {
        const float reveal = static_cast<float>(masked) * shrink[i];
        if (!(std::fabs(reveal) < 9.2e18f))
            throw std::invalid_argument("shrink[" + std::to_string(i) + "] gives a count past int64");
        counts[i] = static_cast<std::int64_t>(reveal);  // truncation toward zero, as Python's int() of a float
        masked -= counts[i];
    }
    counts[size - 1] = masked;
    return counts;
}

}  // namespace mdmsched
