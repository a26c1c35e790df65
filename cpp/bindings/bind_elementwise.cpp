// Bindings of the element-wise activations, softmax / log-softmax and bias_grad.
#include <string>
#include <type_traits>
#include <vector>

#include "bind_common.h"
#include "kernn/elementwise.h"
#include "kernn/softmax.h"

namespace kernn::bind {

namespace {

std::vector<py::ssize_t> shape_of(const py::array& a) {
  return std::vector<py::ssize_t>(a.shape(), a.shape() + a.ndim());
}

// out = kernel(n, in) for an activation's forward: `in` of any shape, out of the same shape.
template <typename Kernel>
py::array unary(const char* op, const py::array& x, const char* x_name, Kernel kernel) {
  const DType dtype = float_dtype(x, op, x_name);
  require_contiguous(x, op, x_name);
  return dispatch(dtype, [&](auto tag) -> py::array {
    using T = decltype(tag);
    py::array y = empty_array<T>(shape_of(x));
    const T* xp = in_ptr<T>(x);
    T* yp = out_ptr<T>(y);
    const std::int64_t n = x.size();
    {
      py::gil_scoped_release release;
      kernel(n, xp, yp);
    }
    return y;
  });
}

// dx = kernel(n, saved, dy) for an activation's backward; `saved` is x or y by op.
template <typename Kernel>
py::array binary(const char* op, const py::array& saved, const char* saved_name,
                 const py::array& dy, Kernel kernel) {
  const DType dtype = float_dtype(saved, op, saved_name);
  require_dtype(dy, dtype, op, "dy");
  require_contiguous(saved, op, saved_name);
  require_contiguous(dy, op, "dy");
  require_same_shape(saved, dy, op, saved_name, "dy");
  return dispatch(dtype, [&](auto tag) -> py::array {
    using T = decltype(tag);
    py::array dx = empty_array<T>(shape_of(saved));
    const T* sp = in_ptr<T>(saved);
    const T* dyp = in_ptr<T>(dy);
    T* dxp = out_ptr<T>(dx);
    const std::int64_t n = saved.size();
    {
      py::gil_scoped_release release;
      kernel(n, sp, dyp, dxp);
    }
    return dx;
  });
}

// The (rows, cols) view of an array reduced over its last dimension; 0-d arrays have none.
void require_last_dim(const py::array& a, const char* op, const char* arg) {
  if (a.ndim() < 1) {
    throw py::value_error(std::string("kernn.") + op + ": argument '" + arg + "' has shape " +
                          shape_str(a) + "; expected at least 1 dimension (softmax is taken " +
                          "over the last one)");
  }
}

void rows_cols(const py::array& a, std::int64_t& rows, std::int64_t& cols) {
  cols = a.shape(a.ndim() - 1);
  rows = cols == 0 ? 0 : a.size() / cols;
}

template <typename Kernel>
py::array rowwise_forward(const char* op, const py::array& x, Kernel kernel) {
  require_last_dim(x, op, "x");
  return unary(op, x, "x", [&](std::int64_t, const auto* xp, auto* yp) {
    std::int64_t rows, cols;
    rows_cols(x, rows, cols);
    kernel(rows, cols, xp, yp);
  });
}

template <typename Kernel>
py::array rowwise_backward(const char* op, const py::array& y, const py::array& dy,
                           Kernel kernel) {
  require_last_dim(y, op, "y");
  return binary(op, y, "y", dy, [&](std::int64_t, const auto* yp, const auto* dyp, auto* dxp) {
    std::int64_t rows, cols;
    rows_cols(y, rows, cols);
    kernel(rows, cols, yp, dyp, dxp);
  });
}

}  // namespace

void register_elementwise(py::module_& m) {
  m.def(
      "relu_forward",
      [](const py::array& x) {
        return unary("relu_forward", x, "x",
                     [](std::int64_t n, const auto* xp, auto* yp) { relu_forward(n, xp, yp); });
      },
      py::arg("x"), "y = max(x, 0), any shape; NaN propagates as in torch.relu.");
  m.def(
      "relu_backward",
      [](const py::array& x, const py::array& dy) {
        return binary("relu_backward", x, "x", dy,
                      [](std::int64_t n, const auto* xp, const auto* dyp, auto* dxp) {
                        relu_backward(n, xp, dyp, dxp);
                      });
      },
      py::arg("x"), py::arg("dy"), "dx = dy where x > 0, else 0 (x is the forward input).");

  m.def(
      "leaky_relu_forward",
      [](const py::array& x, double negative_slope) {
        return unary("leaky_relu_forward", x, "x", [=](std::int64_t n, const auto* xp, auto* yp) {
          using T = std::remove_const_t<std::remove_pointer_t<decltype(xp)>>;
          leaky_relu_forward(n, xp, static_cast<T>(negative_slope), yp);
        });
      },
      py::arg("x"), py::arg("negative_slope"), "y = x where x > 0, else negative_slope * x.");
  m.def(
      "leaky_relu_backward",
      [](const py::array& x, const py::array& dy, double negative_slope) {
        return binary("leaky_relu_backward", x, "x", dy,
                      [=](std::int64_t n, const auto* xp, const auto* dyp, auto* dxp) {
                        using T = std::remove_const_t<std::remove_pointer_t<decltype(xp)>>;
                        leaky_relu_backward(n, xp, dyp, static_cast<T>(negative_slope), dxp);
                      });
      },
      py::arg("x"), py::arg("dy"), py::arg("negative_slope"),
      "dx = dy where x > 0, else negative_slope * dy (x is the forward input).");

  m.def(
      "sigmoid_forward",
      [](const py::array& x) {
        return unary("sigmoid_forward", x, "x",
                     [](std::int64_t n, const auto* xp, auto* yp) { sigmoid_forward(n, xp, yp); });
      },
      py::arg("x"), "y = 1 / (1 + exp(-x)), computed without overflow for any x.");
  m.def(
      "sigmoid_backward",
      [](const py::array& y, const py::array& dy) {
        return binary("sigmoid_backward", y, "y", dy,
                      [](std::int64_t n, const auto* yp, const auto* dyp, auto* dxp) {
                        sigmoid_backward(n, yp, dyp, dxp);
                      });
      },
      py::arg("y"), py::arg("dy"), "dx = dy * (1 - y) * y, from the forward output y.");

  m.def(
      "tanh_forward",
      [](const py::array& x) {
        return unary("tanh_forward", x, "x",
                     [](std::int64_t n, const auto* xp, auto* yp) { tanh_forward(n, xp, yp); });
      },
      py::arg("x"), "y = tanh(x).");
  m.def(
      "tanh_backward",
      [](const py::array& y, const py::array& dy) {
        return binary("tanh_backward", y, "y", dy,
                      [](std::int64_t n, const auto* yp, const auto* dyp, auto* dxp) {
                        tanh_backward(n, yp, dyp, dxp);
                      });
      },
      py::arg("y"), py::arg("dy"), "dx = dy * (1 - y * y), from the forward output y.");

  m.def(
      "softsign_forward",
      [](const py::array& x) {
        return unary("softsign_forward", x, "x", [](std::int64_t n, const auto* xp, auto* yp) {
          softsign_forward(n, xp, yp);
        });
      },
      py::arg("x"), "y = x / (1 + |x|).");
  m.def(
      "softsign_backward",
      [](const py::array& x, const py::array& dy) {
        return binary("softsign_backward", x, "x", dy,
                      [](std::int64_t n, const auto* xp, const auto* dyp, auto* dxp) {
                        softsign_backward(n, xp, dyp, dxp);
                      });
      },
      py::arg("x"), py::arg("dy"), "dx = dy / (1 + |x|)^2 (x is the forward input).");

  m.def(
      "softmax_forward",
      [](const py::array& x) {
        return rowwise_forward("softmax_forward", x,
                               [](std::int64_t rows, std::int64_t cols, const auto* xp, auto* yp) {
                                 softmax_forward(rows, cols, xp, yp);
                               });
      },
      py::arg("x"),
      "Softmax over the last dimension (max-subtracted); a row of all -inf gives NaN as torch.");
  m.def(
      "softmax_backward",
      [](const py::array& y, const py::array& dy) {
        return rowwise_backward(
            "softmax_backward", y, dy,
            [](std::int64_t rows, std::int64_t cols, const auto* yp, const auto* dyp, auto* dxp) {
              softmax_backward(rows, cols, yp, dyp, dxp);
            });
      },
      py::arg("y"), py::arg("dy"),
      "dx = y * (dy - sum(dy * y, last dim)), from the softmax output y.");

  m.def(
      "log_softmax_forward",
      [](const py::array& x) {
        return rowwise_forward("log_softmax_forward", x,
                               [](std::int64_t rows, std::int64_t cols, const auto* xp, auto* yp) {
                                 log_softmax_forward(rows, cols, xp, yp);
                               });
      },
      py::arg("x"), "Log-softmax over the last dimension: x - max - log(sum(exp(x - max))).");
  m.def(
      "log_softmax_backward",
      [](const py::array& y, const py::array& dy) {
        return rowwise_backward(
            "log_softmax_backward", y, dy,
            [](std::int64_t rows, std::int64_t cols, const auto* yp, const auto* dyp, auto* dxp) {
              log_softmax_backward(rows, cols, yp, dyp, dxp);
            });
      },
      py::arg("y"), py::arg("dy"),
      "dx = dy - exp(y) * sum(dy, last dim), from the log-softmax output y.");

  m.def(
      "bias_grad",
      [](const py::array& dy) {
        const char* op = "bias_grad";
        const DType dtype = float_dtype(dy, op, "dy");
        require_ndim(dy, 2, op, "dy");
        require_contiguous(dy, op, "dy");
        return dispatch(dtype, [&](auto tag) -> py::array {
          using T = decltype(tag);
          const std::int64_t rows = dy.shape(0), cols = dy.shape(1);
          py::array db = empty_array<T>({dy.shape(1)});
          const T* dyp = in_ptr<T>(dy);
          T* dbp = out_ptr<T>(db);
          {
            py::gil_scoped_release release;
            bias_grad(rows, cols, dyp, dbp);
          }
          return db;
        });
      },
      py::arg("dy"),
      "Column sums of dy (rows, n) -> (n,), in an order that does not depend on the thread "
      "count.");
}

}  // namespace kernn::bind
