// The only file that knows pybind11. Each entry point: forcecast to a C-contiguous array -> check shape ->
// (core throws std::invalid_argument -> ValueError, std::bad_alloc -> MemoryError) -> release the GIL -> pointer loop.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <stdexcept>
#include <string>

#include "mdmsched/entropy.hpp"
#include "mdmsched/riemann.hpp"

namespace py = pybind11;

namespace {

using DoubleArray = py::array_t<double, py::array::c_style | py::array::forcecast>;
using Int64Array = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>;
using ByteArray = py::array_t<std::uint8_t, py::array::c_style | py::array::forcecast>;

void require_1d(const py::array& arr, const char* name) {
    if (arr.ndim() != 1)
        throw std::invalid_argument(std::string(name) + " must be 1-D, got " + std::to_string(arr.ndim()) + "-D");
}

template <typename T>
py::array_t<T> to_numpy(std::vector<T>&& values) {
    py::array_t<T> out(static_cast<py::ssize_t>(values.size()));
    std::copy(values.begin(), values.end(), out.mutable_data());
    return out;
}

std::size_t as_count(std::int64_t value, const char* name) {
    if (value < 1) throw std::invalid_argument(std::string(name) + " must be >= 1, got " + std::to_string(value));
    return static_cast<std::size_t>(value);
}

mdmsched::Method parse_method(const std::string& name) {
    if (name == "auto" || name == "fast") return mdmsched::Method::Auto;
    if (name == "naive") return mdmsched::Method::Naive;
    if (name == "hull") return mdmsched::Method::Hull;
    if (name == "lagrangian") return mdmsched::Method::Lagrangian;
    throw std::invalid_argument("method must be one of 'auto', 'fast', 'naive', 'hull', 'lagrangian'; got '" + name + "'");
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

    m.def(
        "solve_memory_bytes",
        [](std::int64_t n, std::int64_t k, const std::string& method) {
            return mdmsched::solve_memory_bytes(as_count(n, "n"), as_count(k, "k"), parse_method(method));
        },
        py::arg("n"), py::arg("k"), py::arg("method") = "auto", "Scratch bytes solve() would allocate.");
}

// ---- entropy: marginal entropies over the subset lattice -----------------------------------------------------

std::vector<std::size_t> tensor_shape(const py::array& p) {
    if (p.ndim() < 1) throw std::invalid_argument("p must have at least one dimension");
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

void bind_entropy(py::module_& m) {
    m.def(
        "dense_lattice",
        [](DoubleArray p, bool keep_subsets, std::int64_t threads, const py::object& progress) {
            const auto shape = tensor_shape(p);
            const unsigned workers = thread_count(threads);
            return run_lattice(progress, [&](const mdmsched::Monitor& monitor) {
                return mdmsched::dense_lattice(p.data(), shape, keep_subsets, workers, monitor);
            });
        },
        py::arg("p"), py::arg("keep_subsets"), py::arg("threads") = 0, py::arg("progress") = py::none(),
        "(H(X_S) by mask or None, sums of H(X_S) by |S|) for a dense tensor.");

    m.def(
        "sparse_lattice",
        [](Int64Array outcomes, DoubleArray probs, bool keep_subsets, std::int64_t threads, const py::object& progress) {
            const std::size_t n = check_support(outcomes, probs);
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

}  // namespace

PYBIND11_MODULE(_core, m) {
    m.doc() = "mdmsched C++ core (see mdmsched for the documented Python API)";
    m.attr("__version__") = MDMSCHED_VERSION;  // from pyproject.toml, via CMake (SKBUILD_PROJECT_VERSION)
    bind_riemann(m);
    bind_entropy(m);
}
