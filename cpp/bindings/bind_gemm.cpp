// kernn._C GEMM bindings: gemm, gemm_reference (same checks, naive kernel), linear and
// linear_backward (the positional fast entries for Linear layers), backend_info.
#include <algorithm>
#include <optional>
#include <string>

#include <pybind11/stl.h>

#include "bind_common.h"
#include "kernn/gemm.h"
#include "kernn/linear.h"
#include "kernn/parallel.h"

namespace kernn::bind {

namespace {

// How error messages name the call and its two matrix operands.
struct GemmNames {
  const char* op;
  const char* a;
  const char* b;
};

template <bool Reference>
py::array checked_gemm(const GemmNames& names, const py::array& a, const py::array& b,
                       std::optional<py::array> c, bool trans_a, bool trans_b, double alpha,
                       double beta, std::optional<py::array> bias,
                       std::optional<py::array> row_bias, bool relu) {
  const char* op = names.op;
  const DType dtype = float_dtype(a, op, names.a);
  require_dtype(b, dtype, op, names.b);
  require_ndim(a, 2, op, names.a);
  require_ndim(b, 2, op, names.b);
  require_contiguous(a, op, names.a);
  require_contiguous(b, op, names.b);
  const py::ssize_t m = trans_a ? a.shape(1) : a.shape(0);
  const py::ssize_t k = trans_a ? a.shape(0) : a.shape(1);
  const py::ssize_t kb = trans_b ? b.shape(1) : b.shape(0);
  const py::ssize_t n = trans_b ? b.shape(0) : b.shape(1);
  if (k != kb) {
    throw py::value_error(std::string("kernn.") + op + ": inner dimensions differ: op(" +
                          names.a + ") is (" + std::to_string(m) + ", " + std::to_string(k) +
                          ") from " + names.a + " " + shape_str(a) +
                          (trans_a ? " transposed" : "") + ", op(" + names.b + ") is (" +
                          std::to_string(kb) + ", " + std::to_string(n) + ") from " + names.b +
                          " " + shape_str(b) + (trans_b ? " transposed" : ""));
  }
  if (bias) {
    require_dtype(*bias, dtype, op, "bias");
    require_shape(*bias, {n}, op, "bias");
    require_contiguous(*bias, op, "bias");
  }
  if (row_bias) {
    require_dtype(*row_bias, dtype, op, "row_bias");
    require_shape(*row_bias, {m}, op, "row_bias");
    require_contiguous(*row_bias, op, "row_bias");
  }
  py::array out;
  if (c) {
    require_dtype(*c, dtype, op, "c");
    require_shape(*c, {m, n}, op, "c");
    require_writeable(*c, op, "c");
    require_apart(op, {{"c", &*c}},
                  {{names.a, &a},
                   {names.b, &b},
                   {"bias", bias ? &*bias : nullptr},
                   {"row_bias", row_bias ? &*row_bias : nullptr}});
    out = *c;
  } else {
    if (beta != 0.0) {
      throw py::value_error(std::string("kernn.") + op + ": argument 'beta' is " +
                            std::to_string(beta) + " but 'c' is None; beta * c needs c");
    }
  }
  dispatch(dtype, [&](auto zero) {
    using T = decltype(zero);
    if (!c) out = empty_array<T>({m, n});
    GemmEpilogue<T> epilogue;
    epilogue.col_bias = bias ? in_ptr<T>(*bias) : nullptr;
    epilogue.row_bias = row_bias ? in_ptr<T>(*row_bias) : nullptr;
    epilogue.relu = relu;
    const T* pa = in_ptr<T>(a);
    const T* pb = in_ptr<T>(b);
    T* pc = out_ptr<T>(out);
    // Row-major leading dimensions of the stored (not transposed) operands; at least 1 so an
    // empty operand still passes the kernel's lda >= width contract.
    const std::int64_t lda = std::max<py::ssize_t>(a.shape(1), 1);
    const std::int64_t ldb = std::max<py::ssize_t>(b.shape(1), 1);
    const std::int64_t ldc = std::max<py::ssize_t>(n, 1);
    py::gil_scoped_release release;
    if constexpr (Reference) {
      gemm_reference<T>(trans_a, trans_b, m, n, k, static_cast<T>(alpha), pa, lda, pb, ldb,
                        static_cast<T>(beta), pc, ldc, epilogue);
    } else {
      gemm<T>(trans_a, trans_b, m, n, k, static_cast<T>(alpha), pa, lda, pb, ldb,
              static_cast<T>(beta), pc, ldc, epilogue);
    }
  });
  return out;
}

// y = act(x @ weight^T + bias): the Linear layer's forward. Its own positional entry point
// because pybind11 spends about a microsecond per call parsing keyword arguments, which is a
// tenth of a batch-1 inference; the checks and the kernel are gemm's.
py::array linear_binding(const py::array& x, const py::array& weight,
                         std::optional<py::array> bias, bool relu) {
  return checked_gemm<false>({"linear", "x", "weight"}, x, weight, std::nullopt, false, true,
                             1.0, 0.0, std::move(bias), std::nullopt, relu);
}

template <bool Reference>
py::array gemm_binding(const py::array& a, const py::array& b, std::optional<py::array> c,
                       bool trans_a, bool trans_b, double alpha, double beta,
                       std::optional<py::array> bias, std::optional<py::array> row_bias,
                       bool relu) {
  return checked_gemm<Reference>({Reference ? "gemm_reference" : "gemm", "a", "b"}, a, b,
                                 std::move(c), trans_a, trans_b, alpha, beta, std::move(bias),
                                 std::move(row_bias), relu);
}

constexpr const char* kGemmDoc = R"doc(C = act(alpha * op(a) @ op(b) + beta * c + bias + row_bias).

a: (m, k), or (k, m) with trans_a; b: (k, n), or (n, k) with trans_b; float32 or float64,
C-contiguous, one dtype for all operands. c: (m, n), written in place and returned when given
(C-contiguous, writeable, not sharing memory with an input); allocated when None, and then beta
must be 0. beta == 0 means c is not read. bias: (n,) added to every row; row_bias: (m,) added to
every column; relu applies max(., 0) last.)doc";

// (dx, dw, db) of a Linear layer from dy, each None unless asked for (see linear.h).
py::tuple linear_backward_binding(const py::array& dy, const py::array& x,
                                  const py::array& weight, std::optional<py::array> relu_output,
                                  bool need_dx, bool need_dw, bool need_db) {
  const char* op = "linear_backward";
  const DType dtype = float_dtype(dy, op, "dy");
  require_dtype(x, dtype, op, "x");
  require_dtype(weight, dtype, op, "weight");
  require_ndim(dy, 2, op, "dy");
  require_ndim(x, 2, op, "x");
  require_ndim(weight, 2, op, "weight");
  const py::ssize_t batch = x.shape(0), in = x.shape(1), out = weight.shape(0);
  require_shape(weight, {out, in}, op, "weight");
  require_shape(dy, {batch, out}, op, "dy");
  require_contiguous(dy, op, "dy");
  require_contiguous(x, op, "x");
  require_contiguous(weight, op, "weight");
  if (relu_output) {
    require_dtype(*relu_output, dtype, op, "relu_output");
    require_shape(*relu_output, {batch, out}, op, "relu_output");
    require_contiguous(*relu_output, op, "relu_output");
  }
  return dispatch(dtype, [&](auto zero) {
    using T = decltype(zero);
    std::optional<py::array> dz, dx, dw, db;
    if (relu_output) dz = empty_array<T>({batch, out});
    if (need_dx) dx = empty_array<T>({batch, in});
    if (need_dw) dw = empty_array<T>({out, in});
    if (need_db) db = empty_array<T>({out});
    const auto data = [](std::optional<py::array>& a) -> T* {
      return a ? out_ptr<T>(*a) : nullptr;
    };
    T* dz_ptr = data(dz);
    T* dx_ptr = data(dx);
    T* dw_ptr = data(dw);
    T* db_ptr = data(db);
    const T* relu_ptr = relu_output ? in_ptr<T>(*relu_output) : nullptr;
    const T* x_ptr = in_ptr<T>(x);
    const T* w_ptr = in_ptr<T>(weight);
    const T* dy_ptr = in_ptr<T>(dy);
    {
      py::gil_scoped_release release;
      linear_backward<T>(batch, in, out, x_ptr, w_ptr, relu_ptr, dy_ptr, dz_ptr, dx_ptr, dw_ptr,
                         db_ptr);
    }
    const auto result = [](const std::optional<py::array>& a) -> py::object {
      return a ? py::object(*a) : py::object(py::none());
    };
    return py::make_tuple(result(dx), result(dw), result(db));
  });
}

}  // namespace

void register_gemm(py::module_& m) {
  // Kept alive for the module's lifetime: pybind11 keeps the docstring pointer.
  static const std::string gemm_doc =
      std::string("Fast GEMM (packed, cache-blocked, SIMD micro-kernel, OpenMP).\n\n") + kGemmDoc;
  static const std::string reference_doc =
      std::string("Naive triple-loop GEMM, the reference for tests.\n\n") + kGemmDoc;
  m.def("gemm", &gemm_binding<false>, py::arg("a"), py::arg("b"), py::arg("c") = py::none(),
        py::kw_only(), py::arg("trans_a") = false, py::arg("trans_b") = false,
        py::arg("alpha") = 1.0, py::arg("beta") = 0.0, py::arg("bias") = py::none(),
        py::arg("row_bias") = py::none(), py::arg("relu") = false,
        gemm_doc.c_str());
  m.def("gemm_reference", &gemm_binding<true>, py::arg("a"), py::arg("b"),
        py::arg("c") = py::none(), py::kw_only(), py::arg("trans_a") = false,
        py::arg("trans_b") = false, py::arg("alpha") = 1.0, py::arg("beta") = 0.0,
        py::arg("bias") = py::none(), py::arg("row_bias") = py::none(),
        py::arg("relu") = false,
        reference_doc.c_str());
  m.def("linear", &linear_binding, py::arg("x"), py::arg("weight"), py::arg("bias"),
        py::arg("relu"),
        "y = act(x @ weight.T + bias), act = max(., 0) when relu is True, else identity.\n\n"
        "x: (m, k); weight: (n, k); bias: (n,) or None; one float dtype, C-contiguous. The same\n"
        "checks and kernel as gemm(x, weight, trans_b=True, bias=bias, relu=relu), taken\n"
        "positionally (keyword parsing costs about 1 us a call).");
  m.def("linear_backward", &linear_backward_binding, py::arg("dy"), py::arg("x"),
        py::arg("weight"), py::arg("relu_output"), py::arg("need_dx"), py::arg("need_dw"),
        py::arg("need_db"),
        "(dx, dw, db) of y = act(x @ weight.T + bias) from dy, each None unless its need_* is\n"
        "True: dz = dy masked where relu_output <= 0 (relu_output: the forward's y when act is\n"
        "the ReLU, None for the identity), dx = dz @ weight, dw = dz.T @ x, db = column sums of\n"
        "dz. dy: (m, n); x: (m, k); weight: (n, k); one float dtype, C-contiguous. Bit for bit\n"
        "relu_backward, gemm and bias_grad called one by one, in one call.");
  m.def(
      "backend_info",
      []() {
        py::dict info;
        info["isa"] = std::string(gemm_isa());
        info["isas_supported"] = gemm_supported_isas();
        info["openmp"] = openmp_enabled();
        info["num_threads"] = max_threads();
        return info;
      },
      "A dict: 'isa' (the GEMM micro-kernel in use: 'avx512', 'avx2' or 'generic'),\n"
      "'isas_supported' (what this CPU runs, best first), 'openmp' (bool), 'num_threads'.");
  m.def(
      "_set_gemm_isa",
      [](const std::string& name) {
        if (!set_gemm_isa(name)) {
          std::string supported;
          for (const auto& isa : gemm_supported_isas()) supported += (supported.empty() ? "" : ", ") + isa;
          throw py::value_error("kernn._set_gemm_isa: argument 'name' is '" + name +
                                "'; this CPU supports " + supported);
        }
      },
      py::arg("name"),
      "Testing hook: switch the GEMM micro-kernel ISA for the whole process (not while a gemm\n"
      "runs). The environment variable KERNN_ISA sets it at start-up.");
  m.def(
      "_gemm_isa", []() { return std::string(gemm_isa()); },
      "The GEMM micro-kernel ISA in use.");
}

}  // namespace kernn::bind
