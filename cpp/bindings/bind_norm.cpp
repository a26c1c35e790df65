// Normalisation bindings. Batch norm: input (N, C, *) seen as (N, C, inner); per-channel
// arrays are (C,). Layer norm: input (*, normalized_shape) seen as (rows, cols); weight and bias
// have normalized_shape; the saved statistics are float64 (rows,).
#include <pybind11/stl.h>

#include <algorithm>
#include <optional>
#include <sstream>
#include <utility>

#include "bind_common.h"
#include "kernn/layer_norm.h"
#include "kernn/norm.h"

namespace kernn::bind {

namespace {

struct NCI {
  std::int64_t N, C, inner;
};

NCI nci_of(const py::array& x, const char* op, const char* arg) {
  if (x.ndim() < 2) {
    throw py::value_error(std::string("kernn.") + op + ": argument '" + arg + "' has shape " +
                          shape_str(x) + "; expected (N, C) or (N, C, *) with at least 2 dimensions");
  }
  std::int64_t inner = 1;
  for (py::ssize_t i = 2; i < x.ndim(); ++i) inner *= x.shape(i);
  return {x.shape(0), x.shape(1), inner};
}

// An optional per-channel (C,) array of dtype dt; in place ones must be writeable.
template <typename T>
T* channel_ptr(const std::optional<py::array>& a, DType dt, std::int64_t C, const char* op,
               const char* arg, bool in_place) {
  if (!a) return nullptr;
  require_dtype(*a, dt, op, arg);
  require_shape(*a, {C}, op, arg);
  if (in_place) {
    require_writeable(*a, op, arg);
    return static_cast<T*>(const_cast<py::array&>(*a).mutable_data());
  }
  require_contiguous(*a, op, arg);
  return const_cast<T*>(static_cast<const T*>(a->data()));
}

// Layer norm's view of input (*, normalized_shape): rows = prod(*), cols = prod(normalized_shape).
struct RowsCols {
  std::int64_t rows, cols;
};

RowsCols layer_norm_rows_cols(const py::array& x, const std::vector<py::ssize_t>& normalized_shape,
                              const char* op) {
  const auto k = static_cast<py::ssize_t>(normalized_shape.size());
  std::ostringstream expected;
  expected << "(*";
  for (const py::ssize_t d : normalized_shape) expected << ", " << d;
  expected << ")";
  if (k == 0) {
    throw py::value_error(std::string("kernn.") + op +
                          ": argument 'normalized_shape' is empty; it must name at least one "
                          "trailing dimension");
  }
  bool matches = x.ndim() >= k;
  for (py::ssize_t i = 0; matches && i < k; ++i) {
    matches = x.shape(x.ndim() - k + i) == normalized_shape[i];
  }
  if (!matches) {
    throw py::value_error(std::string("kernn.") + op + ": argument 'input' has shape " +
                          shape_str(x) + "; expected " + expected.str() +
                          " for the given normalized_shape");
  }
  std::int64_t rows = 1, cols = 1;
  for (py::ssize_t i = 0; i < x.ndim() - k; ++i) rows *= x.shape(i);
  for (const py::ssize_t d : normalized_shape) cols *= d;
  return {rows, cols};
}

// An optional weight or bias of normalized_shape and dtype dt.
template <typename T>
const T* affine_ptr(const std::optional<py::array>& a, DType dt,
                    const std::vector<py::ssize_t>& normalized_shape, const char* op,
                    const char* arg) {
  if (!a) return nullptr;
  require_dtype(*a, dt, op, arg);
  require_shape(*a, normalized_shape, op, arg);
  require_contiguous(*a, op, arg);
  return in_ptr<T>(*a);
}

// A saved statistic of layer_norm_forward: float64 (rows,).
const double* row_stat_ptr(const py::array& a, std::int64_t rows, const char* op,
                           const char* arg) {
  require_dtype(a, DType::Float64, op, arg);
  require_shape(a, {static_cast<py::ssize_t>(rows)}, op, arg);
  require_contiguous(a, op, arg);
  return in_ptr<double>(a);
}

}  // namespace

void register_norm(py::module_& m) {
  m.def(
      "batch_norm_forward",
      [](const py::array& x, const std::optional<py::array>& weight,
         const std::optional<py::array>& bias, const std::optional<py::array>& running_mean,
         const std::optional<py::array>& running_var, bool training, double momentum,
         double eps, bool relu) {
        const char* op = "batch_norm";
        const DType dt = float_dtype(x, op, "input");
        require_contiguous(x, op, "input");
        const NCI s = nci_of(x, op, "input");
        if (eps < 0) {
          throw py::value_error("kernn.batch_norm: argument 'eps' must be >= 0, got " +
                                std::to_string(eps));
        }
        if (training && s.N * s.inner <= 1) {
          throw py::value_error(
              "kernn.batch_norm: expected more than 1 value per channel when training, got "
              "input of shape " + shape_str(x));
        }
        if (!training && (!running_mean || !running_var)) {
          throw py::value_error(
              "kernn.batch_norm: 'running_mean' and 'running_var' are required when not training");
        }
        if (running_mean.has_value() != running_var.has_value()) {
          throw py::value_error(
              "kernn.batch_norm: give both 'running_mean' and 'running_var', or neither");
        }
        return dispatch(dt, [&](auto tag) {
          using T = decltype(tag);
          const T* w = channel_ptr<T>(weight, dt, s.C, op, "weight", false);
          const T* b = channel_ptr<T>(bias, dt, s.C, op, "bias", false);
          T* rm = channel_ptr<T>(running_mean, dt, s.C, op, "running_mean", training);
          T* rv = channel_ptr<T>(running_var, dt, s.C, op, "running_var", training);
          if (training && running_mean) {
            // Updated in place while the other arrays are read.
            require_apart(op, {{"running_mean", &*running_mean}, {"running_var", &*running_var}},
                          {{"input", &x},
                           {"weight", weight ? &*weight : nullptr},
                           {"bias", bias ? &*bias : nullptr}});
          }
          std::vector<py::ssize_t> shape(x.shape(), x.shape() + x.ndim());
          py::array y = empty_array<T>(shape);
          py::array save_mean = empty_array<T>({static_cast<py::ssize_t>(s.C)});
          py::array save_invstd = empty_array<T>({static_cast<py::ssize_t>(s.C)});
          {
            py::gil_scoped_release release;
            if (training) {
              batch_norm_forward_train<T>(in_ptr<T>(x), s.N, s.C, s.inner, w, b, eps, momentum,
                                          rm, rv, relu, out_ptr<T>(y), out_ptr<T>(save_mean),
                                          out_ptr<T>(save_invstd));
            } else {
              batch_norm_forward_eval<T>(in_ptr<T>(x), s.N, s.C, s.inner, w, b, rm, rv, eps, relu,
                                         out_ptr<T>(y), out_ptr<T>(save_invstd));
              std::copy(rm, rm + s.C, out_ptr<T>(save_mean));
            }
          }
          return py::make_tuple(y, save_mean, save_invstd);
        });
      },
      py::arg("input"), py::arg("weight"), py::arg("bias"), py::arg("running_mean"),
      py::arg("running_var"), py::arg("training"), py::arg("momentum"), py::arg("eps"),
      py::arg("relu") = false,
      "Batch norm of input (N, C, *) -> (output, save_mean, save_invstd), each (C,) save array\n"
      "for batch_norm_backward. training: batch statistics (biased variance), and running_mean/\n"
      "running_var (or None) updated in place with momentum and the unbiased variance.\n"
      "Not training: running statistics; save_mean is running_mean, save_invstd\n"
      "1/sqrt(running_var + eps). weight/bias None mean 1 and 0. relu=True applies ReLU to\n"
      "the output in the same pass (pass the output as relu_output to the backward).");

  m.def(
      "batch_norm_backward",
      [](const py::array& x, const py::array& dy, const std::optional<py::array>& weight,
         const py::array& save_mean, const py::array& save_invstd, bool training,
         const std::optional<py::array>& relu_output) {
        const char* op = "batch_norm_backward";
        const DType dt = float_dtype(x, op, "input");
        require_contiguous(x, op, "input");
        require_dtype(dy, dt, op, "grad_output");
        require_contiguous(dy, op, "grad_output");
        require_same_shape(x, dy, op, "input", "grad_output");
        if (relu_output) {
          require_dtype(*relu_output, dt, op, "relu_output");
          require_contiguous(*relu_output, op, "relu_output");
          require_same_shape(x, *relu_output, op, "input", "relu_output");
        }
        const NCI s = nci_of(x, op, "input");
        return dispatch(dt, [&](auto tag) {
          using T = decltype(tag);
          const T* relu_out = relu_output ? in_ptr<T>(*relu_output) : nullptr;
          const T* w = channel_ptr<T>(weight, dt, s.C, op, "weight", false);
          const T* mean = channel_ptr<T>(save_mean, dt, s.C, op, "save_mean", false);
          const T* invstd = channel_ptr<T>(save_invstd, dt, s.C, op, "save_invstd", false);
          std::vector<py::ssize_t> shape(x.shape(), x.shape() + x.ndim());
          py::array dx = empty_array<T>(shape);
          py::array dweight = empty_array<T>({static_cast<py::ssize_t>(s.C)});
          py::array dbias = empty_array<T>({static_cast<py::ssize_t>(s.C)});
          {
            py::gil_scoped_release release;
            batch_norm_backward<T>(in_ptr<T>(x), in_ptr<T>(dy), relu_out, s.N, s.C, s.inner, w,
                                   mean, invstd, training, out_ptr<T>(dx), out_ptr<T>(dweight),
                                   out_ptr<T>(dbias));
          }
          return py::make_tuple(dx, dweight, dbias);
        });
      },
      py::arg("input"), py::arg("grad_output"), py::arg("weight"), py::arg("save_mean"),
      py::arg("save_invstd"), py::arg("training"), py::arg("relu_output") = py::none(),
      "Gradient of batch_norm -> (grad_input, grad_weight, grad_bias) from the forward's\n"
      "save_mean/save_invstd. training=False treats the statistics as constants.\n"
      "relu_output: the output of a relu=True forward; grad_output is then the gradient of\n"
      "that ReLU's output and is masked by relu_output > 0 first.");

  m.def(
      "layer_norm_forward",
      [](const py::array& x, const std::vector<py::ssize_t>& normalized_shape,
         const std::optional<py::array>& weight, const std::optional<py::array>& bias,
         double eps) {
        const char* op = "layer_norm";
        const DType dt = float_dtype(x, op, "input");
        require_contiguous(x, op, "input");
        const RowsCols s = layer_norm_rows_cols(x, normalized_shape, op);
        if (!(eps >= 0)) {
          throw py::value_error("kernn.layer_norm: argument 'eps' must be >= 0, got " +
                                std::to_string(eps));
        }
        return dispatch(dt, [&](auto tag) {
          using T = decltype(tag);
          const T* w = affine_ptr<T>(weight, dt, normalized_shape, op, "weight");
          const T* b = affine_ptr<T>(bias, dt, normalized_shape, op, "bias");
          std::vector<py::ssize_t> shape(x.shape(), x.shape() + x.ndim());
          py::array y = empty_array<T>(shape);
          py::array save_mean = empty_array<double>({static_cast<py::ssize_t>(s.rows)});
          py::array save_rstd = empty_array<double>({static_cast<py::ssize_t>(s.rows)});
          {
            py::gil_scoped_release release;
            layer_norm_forward<T>(in_ptr<T>(x), s.rows, s.cols, w, b, eps, out_ptr<T>(y),
                                  out_ptr<double>(save_mean), out_ptr<double>(save_rstd));
          }
          return py::make_tuple(y, save_mean, save_rstd);
        });
      },
      py::arg("input"), py::arg("normalized_shape"), py::arg("weight"), py::arg("bias"),
      py::arg("eps"),
      "Layer norm of input (*, normalized_shape) over its trailing normalized_shape ->\n"
      "(output, save_mean, save_rstd); the saved statistics are float64 (rows,), rows the\n"
      "product of the leading dimensions, for layer_norm_backward. Biased variance;\n"
      "weight/bias (normalized_shape) None mean 1 and 0.");

  m.def(
      "layer_norm_backward",
      [](const py::array& x, const py::array& dy, const std::vector<py::ssize_t>& normalized_shape,
         const std::optional<py::array>& weight, const py::array& save_mean,
         const py::array& save_rstd, const std::vector<bool>& output_mask) {
        const char* op = "layer_norm_backward";
        const DType dt = float_dtype(x, op, "input");
        require_contiguous(x, op, "input");
        require_dtype(dy, dt, op, "grad_output");
        require_contiguous(dy, op, "grad_output");
        require_same_shape(x, dy, op, "input", "grad_output");
        const RowsCols s = layer_norm_rows_cols(x, normalized_shape, op);
        const double* mean = row_stat_ptr(save_mean, s.rows, op, "save_mean");
        const double* rstd = row_stat_ptr(save_rstd, s.rows, op, "save_rstd");
        if (output_mask.size() != 3) {
          throw py::value_error(
              "kernn.layer_norm_backward: argument 'output_mask' must hold 3 booleans (input, "
              "weight, bias), got " + std::to_string(output_mask.size()));
        }
        return dispatch(dt, [&](auto tag) {
          using T = decltype(tag);
          const T* w = affine_ptr<T>(weight, dt, normalized_shape, op, "weight");
          std::vector<py::ssize_t> shape(x.shape(), x.shape() + x.ndim());
          py::object results[3] = {py::none(), py::none(), py::none()};
          py::array arrays[3];
          if (output_mask[0]) arrays[0] = empty_array<T>(shape);
          if (output_mask[1]) arrays[1] = empty_array<T>(normalized_shape);
          if (output_mask[2]) arrays[2] = empty_array<T>(normalized_shape);
          T* outs[3] = {nullptr, nullptr, nullptr};
          for (int i = 0; i < 3; ++i) {
            if (output_mask[i]) {
              outs[i] = out_ptr<T>(arrays[i]);
              results[i] = arrays[i];
            }
          }
          {
            py::gil_scoped_release release;
            layer_norm_backward<T>(in_ptr<T>(x), in_ptr<T>(dy), s.rows, s.cols, w, mean, rstd,
                                   outs[0], outs[1], outs[2]);
          }
          return py::make_tuple(results[0], results[1], results[2]);
        });
      },
      py::arg("input"), py::arg("grad_output"), py::arg("normalized_shape"), py::arg("weight"),
      py::arg("save_mean"), py::arg("save_rstd"),
      py::arg("output_mask") = std::vector<bool>{true, true, true},
      "Gradients of layer_norm -> (grad_input, grad_weight, grad_bias) from the forward's\n"
      "save_mean/save_rstd; an entry is None where output_mask (input, weight, bias) is False.\n"
      "weight None means 1.");
}

}  // namespace kernn::bind
