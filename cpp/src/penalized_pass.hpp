// One penalized DP layer in double precision that knows when rounding could have changed its answer (issue 28).
// Internal header.
//
// V(0) = 0, V(b) = min_{a<b} V(a) + c(a, b) + lambda, with the monotone convex-hull trick of riemann_detail.hpp. Every
// decision the hull takes (which of two lines is lower at a query, whether a line is useless, which of two equal-slope
// lines to keep) compares two computed quantities whose distance from their exact values is bounded a priori (below).
// If every compared difference exceeds its bound, each decision is the one exact arithmetic takes, so the argmins are
// exactly those of the exact DP (and of the long-double DP, whose own errors are smaller). Otherwise the pass reports
// a near tie and the caller re-runs it in long double. Double arithmetic is ~3x faster than x87 long double here.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace mdmsched::detail {

class CheckedPenalizedPass {
public:
    // h (heights) and l (prefix curve, l >= h >= 0) as in riemann_detail.hpp's band.
    CheckedPenalizedPass(const double* h, const double* l, std::size_t n)
        : h_(h), n_(n), offset_(n), slope_(n), icpt_(n), line_(n) {
        double l_max = 0.0;
        for (std::size_t i = 0; i < n; ++i) {
            offset_[i] = static_cast<double>(i) * h[i] + (h[i] - l[i]);
            total_ += l[i];
            l_max = std::max(l_max, l[i]);
        }
        scale_ = 2.0 * total_ + 2.0 * static_cast<double>(n + 1) * l_max;
    }

    // Writes parent[b] (b = 1..n) and returns true when no comparison was a near tie; else returns false (parent is
    // then unspecified). O(n).
    //
    // The pass runs on W(b) = V(b) - P_b, where the prefix sums cancel: W(b) = min_a I_a - b h_a + lambda with the
    // line intercept I_a = W(a) + a h_a + (h_a - l_a), slope s_a = -h_a. Same argmins as V, no prefix sums.
    //
    // Error bound. Let u = 2^-53 (each rounding also errs by up to 2^-1075 absolute, in the subnormal range) and
    // M = 2 P_n + |lambda| + 2 (n + 1) max l, which bounds every intermediate below (l >= 0, so 0 <= P_b <= P_n;
    // 0 <= V(b) <= c(0, b) + lambda <= P_n + lambda; |a h_a|, |s x| <= n max l). Each step adds 7 roundings (5 for I_a,
    // 2 for I_a + s x), each <= u M, to the error of the value it extends, so every computed intercept and line value
    // errs by at most 7 (n + 1) (u M + 2^-1075) <= E = 16 (n + 2) (u M + 2^-1022) (generous). Comparisons: two values
    // or intercepts (bound 2E, plus the subtraction's rounding: tie = 2.5E), and the hull's cross products
    // (I3 - I1)(s1 - s2) vs (I2 - I1)(s1 - s3), whose slopes are exact and whose slope differences are rounded once
    // (bound 2.5E (|s1 - s2| + |s1 - s3|) + 6u (|lhs| + |rhs|) + 2^-1022 for products in the subnormal range).
    bool run(double lambda, std::size_t* parent) {
        constexpr double u = std::numeric_limits<double>::epsilon() / 2;
        constexpr double kMin = std::numeric_limits<double>::min();  // below it, rounding errors are absolute
        const double big = scale_ + std::fabs(lambda);
        // The cross products reach ~M^2: magnitudes past 2^500 (curves ~1e150 nats) are left to long double's range.
        if (!(big < 0x1p500)) return false;
        const double err = 16.0 * static_cast<double>(n_ + 2) * (u * big + kMin);
        const double tie = 2.5 * err;
        double slack = std::numeric_limits<double>::infinity();  // smallest (|difference| - bound) seen
        // A NaN margin (impossible for finite inputs below 2^500) would stick and flag the pass.
        const auto note = [&slack](double margin) { slack = margin > slack ? slack : margin; };
        std::size_t front = 0, back = 0;                         // the hull is line_[front..back); older lines stay
        double best = 0.0;                                       // W(b - 1) - lambda (W(0) = 0)
        for (std::size_t b = 1; b <= n_; ++b) {
            // Add the line of split point a = b - 1.
            const std::size_t a = b - 1;
            const double s = -h_[a];
            const double icpt = (a == 0 ? 0.0 : best + lambda) + offset_[a];
            bool keep = true;
            while (back > 0 && slope_[back - 1] == s) {
                const double diff = icpt - icpt_[back - 1];
                note(std::fabs(diff) - tie);
                if (diff >= 0.0) {  // equal slope: the lower line wins everywhere (the older one on a tie)
                    keep = false;
                    break;
                }
                --back;
            }
            if (keep) {
                while (back >= 2) {  // as the long-double hull: lines behind the front count too
                    const std::size_t i1 = back - 2, i2 = back - 1;
                    const double b12 = slope_[i1] - slope_[i2], b13 = slope_[i1] - s;
                    const double lhs = (icpt - icpt_[i1]) * b12, rhs = (icpt_[i2] - icpt_[i1]) * b13;
                    const double bound = tie * (b12 + b13) + 6.0 * u * (std::fabs(lhs) + std::fabs(rhs)) + kMin;
                    note(std::fabs(lhs - rhs) - bound);
                    if (lhs > rhs) break;
                    --back;
                }
                slope_[back] = s;
                icpt_[back] = icpt;
                line_[back] = a;
                ++back;
                if (front >= back) front = back - 1;
            }
            // Query x = b: advance the front while the next line is not higher.
            const double x = static_cast<double>(b);
            best = icpt_[front] + slope_[front] * x;
            while (front + 1 < back) {
                const double next = icpt_[front + 1] + slope_[front + 1] * x;
                note(std::fabs(next - best) - tie);
                if (next > best) break;
                best = next;
                ++front;
            }
            parent[b] = line_[front];
        }
        return slack > 0.0;
    }

    // P_n = sum of l in double: an upper bound (up to rounding) on the one-step error, TC for one curve.
    double total() const { return total_; }

private:
    const double* h_;
    std::size_t n_;
    std::vector<double> offset_;  // a h_a + (h_a - l_a): the intercept's part that does not depend on W
    double total_ = 0.0;
    double scale_ = 0.0;  // M without lambda
    std::vector<double> slope_, icpt_;
    std::vector<std::size_t> line_;
};

}  // namespace mdmsched::detail
