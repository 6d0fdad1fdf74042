// The only file that knows pybind11. Each entry point: forcecast to a C-contiguous array -> check shape ->
// (core throws std::invalid_argument -> ValueError, std::bad_alloc -> MemoryError) -> release the GIL -> pointer loop.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

#include "mdmsched/closed_loop.hpp"
#include "mdmsched/entropy.hpp"
#include "mdmsched/markov.hpp"
#include "mdmsched/practice.hpp"
#include "mdmsched/riemann.hpp"

namespace py = pybind11;

namespace {

using DoubleArray = py::array_t<double, py::array::c_style | py::array::forcecast>;
using Int64Array = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>;
using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;
using ByteArray = py::array_t<std::uint8_t, py::array::c_style | py::array::forcecast>;

void require_1d(const py::array& arr, const char* name) {
    if (arr.ndim() != 1)
        throw std::invalid_argument(std::string(name) + " must be 1-D, got " + std::to_string(arr.ndim()) + "-D");
}

// Hands a result vector to NumPy without copying it: the vector moves to the heap and a capsule (the array's base)
// deletes it when the last view dies. Large results (2^n subset entropies) so cost 1x their size at peak, not 2x.
template <typename T>
py::array_t<T> to_numpy(std::vector<T>&& values) {
    if (values.empty()) return py::array_t<T>(0);
    auto owned = std::make_unique<std::vector<T>>(std::move(values));
    py::capsule base(owned.get(), [](void* v) { delete static_cast<std::vector<T>*>(v); });
    auto* data = owned.release();  // the capsule owns it now
    return py::array_t<T>(static_cast<py::ssize_t>(data->size()), data->data(), base);
}

std::size_t as_count(std::int64_t value, const char* name) {
    if (value < 1) throw std::invalid_argument(std::string(name) + " must be >= 1, got " + std::to_string(value));
    return static_cast<std::size_t>(value);
}

// The one list of solver method names: exported as _core.METHODS, which the Python layer validates against.
const std::pair<const char*, mdmsched::Method> kMethods[] = {
    {"auto", mdmsched::Method::Auto},
    {"naive", mdmsched::Method::Naive},
    {"hull", mdmsched::Method::Hull},
    {"lagrangian", mdmsched::Method::Lagrangian},
};

// The subset lattice has 2^n subsets: the raw lattice walks refuse larger n (minutes to years of work).
constexpr std::size_t kMaxLatticeN = 30;

mdmsched::Method parse_method(const std::string& name) {
    std::string names;
    for (const auto& [key, value] : kMethods) {
        if (name == key) return value;
        names += std::string(names.empty() ? "'" : ", '") + key + "'";
    }
    throw std::invalid_argument("method must be one of " + names + "; got '" + name + "'");
}

// Raw entry points validate what they read: finite, non-negative probabilities summing to expected_total (1 unless
// the walk normalises as it reads) within the package's one tolerance, _validation.probability_tolerance for
// float64: max(1e-9 sqrt(size), 8 eps log2(2 + size)), relative to the total.
double probability_tolerance(std::size_t size) {
    const double count = static_cast<double>(std::max<std::size_t>(size, 1));
    return std::max(1e-9 * std::sqrt(count),
                    8 * std::numeric_limits<double>::epsilon() * std::log2(2.0 + static_cast<double>(size)));
}

void check_probabilities(const double* p, std::size_t size, const char* name, double expected_total = 1.0) {
    double total = 0.0;
    for (std::size_t i = 0; i < size; ++i) {
        if (!(p[i] >= 0.0) || !std::isfinite(p[i]))
            throw std::invalid_argument(std::string(name) + "[" + std::to_string(i) + "] = " + std::to_string(p[i]) +
                                        " is not a finite non-negative probability");
        total += p[i];
    }
    if (!(std::fabs(total - expected_total) <= probability_tolerance(size) * expected_total))
        throw std::invalid_argument(std::string(name) + " must sum to " + std::to_string(expected_total) + ", got " +
                                    std::to_string(total));
}

void check_lattice_n(std::size_t n) {
    if (n > kMaxLatticeN)
        throw std::invalid_argument("the subset lattice of n = " + std::to_string(n) +
                                    " coordinates has 2^n subsets (limit n = " + std::to_string(kMaxLatticeN) + ")");
}

// ---- riemann: schedule error and optimal schedules ------------------------------------------------------------

void bind_riemann(py::module_& m) {
    m.def(
        "schedule_error",
        [](DoubleArray z, Int64Array sizes) {
            require_1d(z, "Z");
            require_1d(sizes, "sizes");
            const auto n = static_cast<std::size_t>(z.size());
            const auto k = static_cast<std::size_t>(sizes.size());
            py::gil_scoped_release release;
            return mdmsched::schedule_error(z.data(), n, sizes.data(), k);
        },
        py::arg("z"), py::arg("sizes"), "err(Z, s) in the curve's unit; O(n).");

    m.def(
        "solve",
        [](DoubleArray z, std::int64_t k, const std::string& method) {
            require_1d(z, "Z");
            const auto n = static_cast<std::size_t>(z.size());
            const auto steps = as_count(k, "k");
            const auto m = parse_method(method);
            mdmsched::Solution sol;
            {
                py::gil_scoped_release release;
                sol = mdmsched::solve(z.data(), n, steps, m);
            }
            return py::make_tuple(sol.error, to_numpy(std::move(sol.breakpoints)));
        },
        py::arg("z"), py::arg("k"), py::arg("method") = "auto",
        "Optimal k-step schedule: (error, breakpoints N_0..N_k).");

    m.def(
        "error_frontier",
        [](DoubleArray z, std::int64_t k_max, const std::string& method) {
            require_1d(z, "Z");
            const auto n = static_cast<std::size_t>(z.size());
            const auto kk = as_count(k_max, "k_max");
            const auto m = parse_method(method);
            std::vector<double> out;
            {
                py::gil_scoped_release release;
                out = mdmsched::error_frontier(z.data(), n, kk, m);
            }
            return to_numpy(std::move(out));
        },
        py::arg("z"), py::arg("k_max"), py::arg("method") = "auto", "opt_k for k = 1..k_max.");

    m.def(
        "min_steps",
        [](DoubleArray z, double eps) {
            require_1d(z, "Z");
            const auto n = static_cast<std::size_t>(z.size());
            mdmsched::Solution sol;
            {
                py::gil_scoped_release release;
                sol = mdmsched::min_steps(z.data(), n, eps);
            }
            return py::make_tuple(sol.error, to_numpy(std::move(sol.breakpoints)));
        },
        py::arg("z"), py::arg("eps"), "Fewest-step schedule with opt_k <= eps: (error, breakpoints).");

    // Certified (two-curve) solvers over a band in Z-form: heights h and prefix curve l (SPEC §5.3).
    const auto band_size = [](const DoubleArray& h, const DoubleArray& l) {
        require_1d(h, "heights");
        require_1d(l, "prefix");
        if (h.size() != l.size())
            throw std::invalid_argument("heights and prefix must have the same length, got " +
                                        std::to_string(h.size()) + " and " + std::to_string(l.size()));
        return static_cast<std::size_t>(h.size());
    };
    m.def(
        "certified_schedule_error",
        [band_size](DoubleArray h, DoubleArray l, Int64Array sizes) {
            const auto n = band_size(h, l);
            require_1d(sizes, "sizes");
            const auto k = static_cast<std::size_t>(sizes.size());
            py::gil_scoped_release release;
            return mdmsched::certified_schedule_error(h.data(), l.data(), n, sizes.data(), k);
        },
        py::arg("heights"), py::arg("prefix"), py::arg("sizes"), "U(s) over the band; O(n).");

    m.def(
        "certified_solve",
        [band_size](DoubleArray h, DoubleArray l, std::int64_t k, const std::string& method) {
            const auto n = band_size(h, l);
            const auto steps = as_count(k, "k");
            const auto m = parse_method(method);
            mdmsched::Solution sol;
            {
                py::gil_scoped_release release;
                sol = mdmsched::certified_solve(h.data(), l.data(), n, steps, m);
            }
            return py::make_tuple(sol.error, to_numpy(std::move(sol.breakpoints)));
        },
        py::arg("heights"), py::arg("prefix"), py::arg("k"), py::arg("method") = "auto",
        "Certified-optimal k-step schedule: (U, breakpoints N_0..N_k).");

    m.def(
        "certified_frontier",
        [band_size](DoubleArray h, DoubleArray l, std::int64_t k_max, const std::string& method) {
            const auto n = band_size(h, l);
            const auto kk = as_count(k_max, "k_max");
            const auto m = parse_method(method);
            std::vector<double> out;
            {
                py::gil_scoped_release release;
                out = mdmsched::certified_frontier(h.data(), l.data(), n, kk, m);
            }
            return to_numpy(std::move(out));
        },
        py::arg("heights"), py::arg("prefix"), py::arg("k_max"), py::arg("method") = "auto", "min U for k = 1..k_max.");

    m.def(
        "certified_min_steps",
        [band_size](DoubleArray h, DoubleArray l, double eps) {
            const auto n = band_size(h, l);
            mdmsched::Solution sol;
            {
                py::gil_scoped_release release;
                sol = mdmsched::certified_min_steps(h.data(), l.data(), n, eps);
            }
            return py::make_tuple(sol.error, to_numpy(std::move(sol.breakpoints)));
        },
        py::arg("heights"), py::arg("prefix"), py::arg("eps"),
        "Fewest-step schedule with min U <= eps: (U, breakpoints).");

    m.def(
        "is_clean_curve",
        [](const py::object& obj) {
            using CleanArray = py::array_t<double, py::array::c_style>;
            if (!py::isinstance<CleanArray>(obj)) return false;  // other dtypes/layouts: the slow path converts
            const auto z = py::reinterpret_borrow<CleanArray>(obj);
            if (z.ndim() != 1 || z.size() == 0) return false;
            const double* v = z.data();
            const auto n = static_cast<std::size_t>(z.size());
            if (!(v[0] == 0.0)) return false;
            bool ok = std::isfinite(v[n - 1]);
            for (std::size_t i = 1; i < n; ++i) ok &= v[i] >= v[i - 1];  // false on NaN; +inf only at the end
            return ok;
        },
        py::arg("z"),
        "True if z is a float64 C-contiguous 1-D curve with Z_1 == 0, finite, non-decreasing exactly (no cleaning "
        "needed); O(n), no copy. A fast-path check for the Python validators.");

    m.def(
        "solve_memory_bytes",
        [](std::int64_t n, std::int64_t k, const std::string& method) {
            return mdmsched::solve_memory_bytes(as_count(n, "n"), as_count(k, "k"), parse_method(method));
        },
        py::arg("n"), py::arg("k"), py::arg("method") = "auto", "Scratch bytes solve() would allocate.");
}

// ---- entropy: marginal entropies over the subset lattice -----------------------------------------------------

// total: what p sums to when the caller leaves the normalisation to the walk (see mdmsched::dense_lattice).
std::vector<std::size_t> tensor_shape(const DoubleArray& p, double total = 1.0) {
    if (p.ndim() < 1) throw std::invalid_argument("p must have at least one dimension");
    if (!(total > 0.0) || !std::isfinite(total))
        throw std::invalid_argument("total must be a finite positive number, got " + std::to_string(total));
    check_probabilities(p.data(), static_cast<std::size_t>(p.size()), "p", total);
    std::vector<std::size_t> shape;
    for (py::ssize_t i = 0; i < p.ndim(); ++i) shape.push_back(static_cast<std::size_t>(p.shape(i)));
    return shape;
}

unsigned thread_count(std::int64_t threads) {
    if (threads < 0 || threads > 4096) throw std::invalid_argument("threads must be 0 (all cores) or 1..4096");
    return static_cast<unsigned>(threads);
}

// A Monitor for the core that runs on the calling thread with the GIL re-acquired: it lets Ctrl-C (or an exception
// from the progress callable) cancel the walk, leaving the Python error set for the caller to re-raise.
mdmsched::Monitor python_monitor(const py::object& progress) {
    return [progress](double fraction) {
        py::gil_scoped_acquire acquire;
        if (PyErr_CheckSignals() != 0) return false;
        if (!progress.is_none()) {
            try {
                progress(fraction);
            } catch (py::error_already_set& e) {
                e.restore();
                return false;
            }
        }
        return true;
    };
}

std::size_t check_support(const Int64Array& outcomes, const DoubleArray& probs) {
    if (outcomes.ndim() != 2) throw std::invalid_argument("outcomes must be 2-D (M x n)");
    require_1d(probs, "probs");
    if (probs.shape(0) != outcomes.shape(0)) throw std::invalid_argument("probs must have one entry per outcome row");
    check_probabilities(probs.data(), static_cast<std::size_t>(probs.size()), "probs");
    return static_cast<std::size_t>(outcomes.shape(1));
}

template <typename Walk>
py::tuple run_lattice(const py::object& progress, Walk&& walk) {
    mdmsched::LatticeResult result;
    const auto monitor = python_monitor(progress);
    try {
        py::gil_scoped_release release;
        result = walk(monitor);
    } catch (const mdmsched::Cancelled&) {
        throw py::error_already_set();
    }
    py::object subsets = py::none();
    if (!result.subset_entropy.empty()) subsets = to_numpy(std::move(result.subset_entropy));
    return py::make_tuple(subsets, to_numpy(std::move(result.size_sums)));
}

py::tuple marginal_tuple(mdmsched::MarginalEntropies&& h) {
    return py::make_tuple(to_numpy(std::move(h.singles)), to_numpy(std::move(h.leave_one_outs)), h.joint);
}

// Closed-loop policy tables (SPEC §5.4): count (int32) and error (float64), both (n + 1) x (k + 1).
void bind_closed_loop(py::module_& m) {
    m.def(
        "closed_loop_policy",
        [](DoubleArray z, std::int64_t k, bool naive) {
            require_1d(z, "Z");
            const auto n = static_cast<std::size_t>(z.size());
            const auto steps = as_count(k, "k");
            mdmsched::ClosedLoopPolicy policy;
            {
                py::gil_scoped_release release;
                policy = naive ? mdmsched::closed_loop_policy_naive(z.data(), n, steps)
                               : mdmsched::closed_loop_policy(z.data(), n, steps);
            }
            const std::vector<py::ssize_t> shape{static_cast<py::ssize_t>(n + 1), static_cast<py::ssize_t>(steps + 1)};
            auto count = to_numpy(std::move(policy.count)).reshape(shape);
            auto error = to_numpy(std::move(policy.error)).reshape(shape);
            return py::make_tuple(count, error);
        },
        py::arg("z"), py::arg("k"), py::arg("naive") = false,
        "Closed-loop policy tables (count, error), shape (n + 1, k + 1); naive: the O(k n^2) reference DP.");
    m.def(
        "closed_loop_memory_bytes",
        [](std::int64_t n, std::int64_t k) {
            return mdmsched::closed_loop_memory_bytes(as_count(n, "n"), as_count(k, "k"));
        },
        py::arg("n"), py::arg("k"), "Bytes closed_loop_policy allocates.");
}

void bind_entropy(py::module_& m) {
    m.def(
        "dense_lattice",
        [](DoubleArray p, bool keep_subsets, std::int64_t threads, const py::object& progress, double total) {
            const auto shape = tensor_shape(p, total);
            check_lattice_n(shape.size());
            const unsigned workers = thread_count(threads);
            return run_lattice(progress, [&](const mdmsched::Monitor& monitor) {
                return mdmsched::dense_lattice(p.data(), shape, keep_subsets, workers, monitor, total);
            });
        },
        py::arg("p"), py::arg("keep_subsets"), py::arg("threads") = 0, py::arg("progress") = py::none(),
        py::arg("total") = 1.0,
        "(H(X_S) by mask or None, sums of H(X_S) by |S|) for a dense tensor p / total (divided as it is read).");

    m.def(
        "dense_lattice_shard",
        [](DoubleArray p, std::int64_t lead, std::uint64_t pattern, bool keep_subsets, std::int64_t threads,
           const py::object& progress, double total) {
            const auto shape = tensor_shape(p, total);
            const unsigned workers = thread_count(threads);
            if (lead < 0) throw std::invalid_argument("lead must be >= 0");
            mdmsched::ShardResult result;
            const auto monitor = python_monitor(progress);
            try {
                py::gil_scoped_release release;
                result = mdmsched::dense_lattice_shard(p.data(), shape, static_cast<std::size_t>(lead), pattern,
                                                       keep_subsets, workers, monitor, total);
            } catch (const mdmsched::Cancelled&) {
                throw py::error_already_set();
            }
            py::object subsets = py::none();
            if (keep_subsets) subsets = to_numpy(std::move(result.subset_entropy));
            const auto row = static_cast<py::ssize_t>(shape.size() + 1);
            auto sums = to_numpy(std::move(result.unit_sums));
            return py::make_tuple(subsets, sums.reshape({sums.size() / row, row}));
        },
        py::arg("p"), py::arg("lead"), py::arg("pattern"), py::arg("keep_subsets"), py::arg("threads") = 0,
        py::arg("progress") = py::none(), py::arg("total") = 1.0,
        "One shard of the dense walk: (H(X_S) for S = pattern | t << lead or None, per-unit size sums (2^(U-lead), "
        "n+1)).");

    m.def(
        "lattice_unit_bits", [](std::int64_t n) { return mdmsched::lattice_unit_bits(as_count(n, "n")); }, py::arg("n"),
        "U: the walk sums 2^U units' size sums in unit order; shards fix up to U leading coordinates.");

    m.def(
        "sparse_lattice",
        [](Int64Array outcomes, DoubleArray probs, bool keep_subsets, std::int64_t threads,
           const py::object& progress) {
            const std::size_t n = check_support(outcomes, probs);
            check_lattice_n(n);
            const unsigned workers = thread_count(threads);
            const auto rows = static_cast<std::size_t>(outcomes.shape(0));
            return run_lattice(progress, [&](const mdmsched::Monitor& monitor) {
                return mdmsched::sparse_lattice(outcomes.data(), probs.data(), rows, n, keep_subsets, workers, monitor);
            });
        },
        py::arg("outcomes"), py::arg("probs"), py::arg("keep_subsets"), py::arg("threads") = 0,
        py::arg("progress") = py::none(), "(H(X_S) by mask or None, sums of H(X_S) by |S|) for a sparse support.");

    m.def(
        "sparse_subset_entropies",
        [](Int64Array outcomes, DoubleArray probs, ByteArray masks) {
            const std::size_t n = check_support(outcomes, probs);
            if (masks.ndim() != 2 || static_cast<std::size_t>(masks.shape(1)) != n)
                throw std::invalid_argument("masks must be 2-D with one column per coordinate");
            std::vector<double> out;
            {
                py::gil_scoped_release release;
                out = mdmsched::sparse_subset_entropies(outcomes.data(), probs.data(),
                                                        static_cast<std::size_t>(outcomes.shape(0)), n, masks.data(),
                                                        static_cast<std::size_t>(masks.shape(0)));
            }
            return to_numpy(std::move(out));
        },
        py::arg("outcomes"), py::arg("probs"), py::arg("masks"), "H(X_S) for the subsets given as rows of masks.");

    m.def(
        "plogp_floor",
        [](DoubleArray x, std::int64_t repeats) {
            require_1d(x, "x");
            const auto reps = as_count(repeats, "repeats");
            const auto size = static_cast<std::size_t>(x.size());
            double h = 0.0;
            {
                py::gil_scoped_release release;
                for (std::size_t r = 0; r < reps; ++r) h += mdmsched::entropy(x.data(), size);
            }
            return h / static_cast<double>(reps);
        },
        py::arg("x"), py::arg("repeats"),
        "Benchmark hook: -sum x log x over x (the lattice walk's inner loop, same code and flags), `repeats` times "
        "with the GIL released; returns the mean. Time it on in-cache data for the per-cell floor of the walk.");

    m.def("entropy_kernels", &mdmsched::entropy_kernels,
          "The -sum p log p kernels this CPU runs, widest first (e.g. ('avx512f', 'avx2', 'sse2')).");
    m.def("entropy_kernel", &mdmsched::entropy_kernel, "The kernel every entropy runs through now.");
    m.def("use_entropy_kernel", &mdmsched::use_entropy_kernel, py::arg("name"),
          "Test and benchmark hook: switch the kernel ('' = the widest); returns the previous name. Not while a walk "
          "runs.");

    m.def(
        "dense_marginal_entropies",
        [](DoubleArray p) {
            const auto shape = tensor_shape(p);
            mdmsched::MarginalEntropies h;
            {
                py::gil_scoped_release release;
                h = mdmsched::dense_marginal_entropies(p.data(), shape);
            }
            return marginal_tuple(std::move(h));
        },
        py::arg("p"), "(H(X_i), H(X_{-i}), H(X)) of a dense tensor.");

    m.def(
        "sparse_marginal_entropies",
        [](Int64Array outcomes, DoubleArray probs) {
            const std::size_t n = check_support(outcomes, probs);
            mdmsched::MarginalEntropies h;
            {
                py::gil_scoped_release release;
                h = mdmsched::sparse_marginal_entropies(outcomes.data(), probs.data(),
                                                        static_cast<std::size_t>(outcomes.shape(0)), n);
            }
            return marginal_tuple(std::move(h));
        },
        py::arg("outcomes"), py::arg("probs"), "(H(X_i), H(X_{-i}), H(X)) of a sparse support.");

    m.def(
        "dense_prefix_entropies",
        [](DoubleArray p) {
            const auto shape = tensor_shape(p);
            std::vector<double> out;
            {
                py::gil_scoped_release release;
                out = mdmsched::dense_prefix_entropies(p.data(), shape);
            }
            return to_numpy(std::move(out));
        },
        py::arg("p"), "H(X_{0..m-1}) for m = 0..n of a dense tensor.");
}

void bind_markov(py::module_& m) {
    m.def(
        "markov_gap_sums",
        [](DoubleArray delta, std::int64_t n, double tol) {
            require_1d(delta, "delta");
            const std::size_t length = as_count(n, "n");
            std::vector<double> out;
            {
                py::gil_scoped_release release;
                out = mdmsched::markov_gap_sums(delta.data(), static_cast<std::size_t>(delta.size()), length, tol);
            }
            return to_numpy(std::move(out));
        },
        py::arg("delta"), py::arg("n"), py::arg("tol"),
        "sum_g delta[g-1] r(g, m) for m = 0..n, each m truncated once its tail is below tol/2 * max|delta|.");
}

void bind_practice(py::module_& m) {
    m.def(
        "dllm_counts",
        [](std::int64_t n, FloatArray masked_fraction) {
            require_1d(masked_fraction, "masked_fraction");
            std::vector<std::int64_t> out;
            {
                py::gil_scoped_release release;
                out =
                    mdmsched::dllm_counts(n, masked_fraction.data(), static_cast<std::size_t>(masked_fraction.size()));
            }
            return to_numpy(std::move(out));
        },
        py::arg("n"), py::arg("masked_fraction"),
        "dllm's per-pass counts from float32 1 - alpha(i/k), i = 0..k (stops once nothing is masked).");
    m.def(
        "dream_counts",
        [](std::int64_t n, FloatArray shrink) {
            require_1d(shrink, "shrink");
            std::vector<std::int64_t> out;
            {
                py::gil_scoped_release release;
                out = mdmsched::dream_counts(n, shrink.data(), static_cast<std::size_t>(shrink.size()));
            }
            return to_numpy(std::move(out));
        },
        py::arg("n"), py::arg("shrink"), "Dream's per-pass counts from float32 1 - t_{i+1}/t_i, i = 0..k-1.");
}

}  // namespace

PYBIND11_MODULE(_core, m) {
    m.doc() = "mdmsched C++ core (see mdmsched for the documented Python API)";
    py::tuple methods(std::size(kMethods));
    for (std::size_t i = 0; i < std::size(kMethods); ++i) methods[i] = py::str(kMethods[i].first);
    m.attr("METHODS") = methods;
    m.attr("MAX_LATTICE_N") = py::int_(kMaxLatticeN);
    m.attr("__version__") = MDMSCHED_VERSION;  // from pyproject.toml, via CMake (SKBUILD_PROJECT_VERSION)
    bind_riemann(m);
    bind_closed_loop(m);
    bind_entropy(m);
    bind_markov(m);
    bind_practice(m);
}
