// The only file that knows pybind11. Each entry point: forcecast to a C-contiguous array -> check shape ->
// (core throws std::invalid_argument -> ValueError, std::bad_alloc -> MemoryError) -> release the GIL -> pointer loop.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <stdexcept>
#include <string>

#include "mdmsched/riemann.hpp"

namespace py = pybind11;

namespace {

using DoubleArray = py::array_t<double, py::array::c_style | py::array::forcecast>;
using Int64Array = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>;

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
        "solve_memory_bytes",
        [](std::int64_t n, std::int64_t k, const std::string& method) {
            return mdmsched::solve_memory_bytes(as_count(n, "n"), as_count(k, "k"), parse_method(method));
        },
        py::arg("n"), py::arg("k"), py::arg("method") = "auto", "Scratch bytes solve() would allocate.");
}

}  // namespace

PYBIND11_MODULE(_core, m) {
    m.doc() = "mdmsched C++ core (see mdmsched for the documented Python API)";
    bind_riemann(m);
}
