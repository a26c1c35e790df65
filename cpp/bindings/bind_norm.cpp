// Batch-norm bindings: input (N, C, *) seen as (N, C, inner); per-channel arrays are (C,).
#include <pybind11/stl.h>

#include <algorithm>
#include <optional>
#include <sstream>
#include <utility>

#include "bind_common.h"
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
}

}  // namespace kernn::bind
