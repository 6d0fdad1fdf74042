// Entropies of marginals of a distribution over Sigma_1 x ... x Sigma_n (SPEC §2, §5), in nats.
//
// Subsets S of {0..n-1} are bitmasks (bit i = coordinate i). Dense input is a C-ordered tensor of shape
// (q_0, ..., q_{n-1}); sparse input is M outcomes (rows of n integer symbols, row-major) with probabilities.
// Results are bit-identical for every thread count: each subset's marginal is always built along the same path
// and partial sums are combined in a fixed order. Only the standard library is used.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace mdmsched {

// Called on the calling thread about every 100 ms with the fraction of work done; returning false cancels.
using Monitor = std::function<bool(double fraction_done)>;

// Thrown when a Monitor asked to stop.
struct Cancelled : std::runtime_error {
    Cancelled() : std::runtime_error("cancelled") {}
};

struct LatticeResult {
    std::vector<double> subset_entropy;  // H(X_S) for every mask S (2^n entries) if requested, else empty
    std::vector<double> size_sums;       // sum of H(X_S) over |S| = m, m = 0..n
};

// Every marginal of a dense tensor, each computed from a parent with one more coordinate (work ~ q (1+q)^n cells),
// over `threads` worker threads (0 = all cores). Memory: one chain of marginals per thread. `total` is the sum of p
// when p is not normalised: the walk divides each cell of p by it as it reads it (bit-identical to walking a stored
// p / total, without the tensor-sized copy); throws std::invalid_argument unless it is finite and positive.
LatticeResult dense_lattice(const double* p, const std::vector<std::size_t>& shape, bool keep_subsets, unsigned threads,
                            const Monitor& monitor = nullptr, double total = 1.0);

// ---- Sharded walk (dense) ----
// The lattice is cut into 2^U "units", U = lattice_unit_bits(n): unit u holds the subsets S whose membership of the
// first U coordinates is u (bit i = coordinate i in S). Each unit's H(X_S) are summed into its own per-size row in one
// fixed order (depth-first from the unit's root, coordinates removed in increasing order), and the size sums of the
// whole lattice are the unit rows added in unit order, 0..2^U-1. dense_lattice does exactly that, so any split into
// shards that returns unit rows reproduces its size sums bit for bit, and every marginal is built along the same path
// (coordinates summed out in increasing order), so every H(X_S) is bit-identical too.
std::size_t lattice_unit_bits(std::size_t n);

struct ShardResult {
    std::vector<double> subset_entropy;  // H(X_S) for S = pattern | (t << lead), t = 0..2^(n-lead)-1, if requested
    std::vector<double> unit_sums;       // 2^(U-lead) rows of n+1: unit pattern | (v << lead), v = 0..2^(U-lead)-1
};

// One shard: the subsets whose first `lead` coordinates (lead <= U) have membership `pattern` (bit i = coordinate i
// in S). The excluded leading coordinates are summed out of p once; the rest of the lattice is walked from there.
// Memory: one marginal of p without those coordinates, one chain per thread, and 8 * 2^(n-lead) bytes if kept.
ShardResult dense_lattice_shard(const double* p, const std::vector<std::size_t>& shape, std::size_t lead,
                                std::uint64_t pattern, bool keep_subsets, unsigned threads,
                                const Monitor& monitor = nullptr, double total = 1.0);

// The same for a sparse support: rows grouped by their projection, O(M) expected per subset (hashing).
LatticeResult sparse_lattice(const std::int64_t* outcomes, const double* probs, std::size_t m, std::size_t n,
                             bool keep_subsets, unsigned threads, const Monitor& monitor = nullptr);

// H(X_S) for the listed subsets only (row r of `masks`, k x n bytes, nonzero = coordinate included). Sparse input.
std::vector<double> sparse_subset_entropies(const std::int64_t* outcomes, const double* probs, std::size_t m,
                                            std::size_t n, const std::uint8_t* masks, std::size_t k);

// The 2n+1 entropies TC and DTC need: H(X_i), H(X_{-i}) for each i, and H(X). O(n * size) work, no lattice walk.
struct MarginalEntropies {
    std::vector<double> singles;         // H(X_i)
    std::vector<double> leave_one_outs;  // H(X_{-i})
    double joint = 0.0;                  // H(X)
};
MarginalEntropies dense_marginal_entropies(const double* p, const std::vector<std::size_t>& shape);
MarginalEntropies sparse_marginal_entropies(const std::int64_t* outcomes, const double* probs, std::size_t m,
                                            std::size_t n);

// H(X_{0..m-1}) for m = 0..n: for an exchangeable distribution these are the average entropies e_m. O(size).
std::vector<double> dense_prefix_entropies(const double* p, const std::vector<std::size_t>& shape);

// -sum p log p over a buffer (nats), ignoring p <= 0.
double entropy(const double* p, std::size_t size);

// The -sum p log p kernels every entropy above runs through: the ones this CPU runs (widest first: "avx512f", "avx2",
// "sse2" with glibc's vector log, else "scalar"), the one in use (the widest, chosen at first use), and a switch for
// tests and benchmarks ("" = back to the widest) that returns the previous name; std::invalid_argument for a name
// this CPU cannot run. Switch only while no entropy is being computed.
std::vector<std::string> entropy_kernels();
std::string entropy_kernel();
std::string use_entropy_kernel(const std::string& name);

}  // namespace mdmsched
