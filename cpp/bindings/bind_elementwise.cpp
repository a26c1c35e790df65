// Bindings of the element-wise activations, softmax / log-softmax and bias_grad.
#include <cmath>
#include <optional>
#include <utility>
#include <string>
#include <type_traits>
#include <vector>

#include <pybind11/stl.h>

#include "bind_common.h"
#include "kernn/elementwise.h"
#include "kernn/softmax.h"

namespace kernn::bind {

namespace {

std::vector<py::ssize_t> shape_of(const py::array& a) {
  return std::vector<py::ssize_t>(a.shape(), a.shape() + a.ndim());
}

// y = kernel(n, x, y) for an activation's forward: `x` of any shape, y of the same shape, new
// or `out` when given (the in-place activations pass x itself: each element is read before it
// is written, by the same thread).
template <typename Kernel>
py::array unary(const char* op, const py::array& x, const char* x_name, Kernel kernel,
                const std::optional<py::array>& out = std::nullopt) {
  const DType dtype = float_dtype(x, op, x_name);
  require_contiguous(x, op, x_name);
  if (out) {
    require_dtype(*out, dtype, op, "out");
    require_writeable(*out, op, "out");
    require_same_shape(x, *out, op, x_name, "out");
    const char* x_begin = static_cast<const char*>(x.data());
    const char* out_begin = static_cast<const char*>(out->data());
    if (out_begin != x_begin && out_begin < x_begin + x.nbytes() &&
        x_begin < out_begin + out->nbytes()) {
      throw py::value_error(std::string("kernn.") + op + ": argument 'out' overlaps '" + x_name +
                            "' without being the same array; pass x itself or separate memory");
    }
  }
  return dispatch(dtype, [&](auto tag) -> py::array {
    using T = decltype(tag);
    py::array y = out ? *out : empty_array<T>(shape_of(x));
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

// GELU's `approximate`: false for 'none' (erf), true for 'tanh'; ValueError otherwise.
bool gelu_tanh_form(const char* op, const std::string& approximate) {
  if (approximate == "none") return false;
  if (approximate == "tanh") return true;
  throw py::value_error(std::string("kernn.") + op + ": argument 'approximate' is '" +
                        approximate + "'; expected 'none' or 'tanh'");
}

// hardtanh's bounds: a NaN bound would clamp one side only (min/max comparisons with NaN are
// false), where torch gives NaN everywhere; ValueError instead.
void check_hardtanh_bounds(const char* op, double min_val, double max_val) {
  for (const auto& [name, value] : {std::pair<const char*, double>{"min_val", min_val},
                                    std::pair<const char*, double>{"max_val", max_val}}) {
    if (std::isnan(value)) {
      throw py::value_error(std::string("kernn.") + op + ": argument '" + name +
                            "' is nan; expected a number");
    }
  }
}

}  // namespace

void register_elementwise(py::module_& m) {
  m.def(
      "relu_forward",
      [](const py::array& x, const std::optional<py::array>& out) {
        return unary(
            "relu_forward", x, "x",
            [](std::int64_t n, const auto* xp, auto* yp) { relu_forward(n, xp, yp); }, out);
      },
      py::arg("x"), py::kw_only(), py::arg("out") = py::none(),
      "y = max(x, 0), any shape; NaN propagates as in torch.relu. Written into `out` when given "
      "(x itself for the in-place ReLU).");
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
      [](const py::array& x, double negative_slope, const std::optional<py::array>& out) {
        return unary(
            "leaky_relu_forward", x, "x",
            [=](std::int64_t n, const auto* xp, auto* yp) {
              using T = std::remove_const_t<std::remove_pointer_t<decltype(xp)>>;
              leaky_relu_forward(n, xp, static_cast<T>(negative_slope), yp);
            },
            out);
      },
      py::arg("x"), py::arg("negative_slope"), py::kw_only(), py::arg("out") = py::none(),
      "y = x where x > 0, else negative_slope * x; into `out` when given (may be x).");
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
      "elu_forward",
      [](const py::array& x, double alpha, const std::optional<py::array>& out) {
        return unary(
            "elu_forward", x, "x",
            [=](std::int64_t n, const auto* xp, auto* yp) {
              using T = std::remove_const_t<std::remove_pointer_t<decltype(xp)>>;
              elu_forward(n, xp, static_cast<T>(alpha), yp);
            },
            out);
      },
      py::arg("x"), py::arg("alpha"), py::kw_only(), py::arg("out") = py::none(),
      "y = x where x > 0, else alpha * expm1(x); into `out` when given (may be x).");
  m.def(
      "elu_backward",
      [](const py::array& x, const py::array& dy, double alpha) {
        return binary("elu_backward", x, "x", dy,
                      [=](std::int64_t n, const auto* xp, const auto* dyp, auto* dxp) {
                        using T = std::remove_const_t<std::remove_pointer_t<decltype(xp)>>;
                        elu_backward(n, xp, dyp, static_cast<T>(alpha), dxp);
                      });
      },
      py::arg("x"), py::arg("dy"), py::arg("alpha"),
      "dx = dy where x > 0, else dy * alpha * exp(x) (x is the forward input).");

  m.def(
      "gelu_forward",
      [](const py::array& x, const std::string& approximate) {
        const bool tanh_form = gelu_tanh_form("gelu_forward", approximate);
        return unary("gelu_forward", x, "x", [=](std::int64_t n, const auto* xp, auto* yp) {
          gelu_forward(n, xp, tanh_form, yp);
        });
      },
      py::arg("x"), py::arg("approximate"),
      "y = x * Phi(x) with the normal CDF Phi from erf ('none') or its tanh form ('tanh').");
  m.def(
      "gelu_backward",
      [](const py::array& x, const py::array& dy, const std::string& approximate) {
        const bool tanh_form = gelu_tanh_form("gelu_backward", approximate);
        return binary("gelu_backward", x, "x", dy,
                      [=](std::int64_t n, const auto* xp, const auto* dyp, auto* dxp) {
                        gelu_backward(n, xp, dyp, tanh_form, dxp);
                      });
      },
      py::arg("x"), py::arg("dy"), py::arg("approximate"),
      "dx = dy * gelu'(x) for approximate 'none' or 'tanh' (x is the forward input).");

  m.def(
      "silu_forward",
      [](const py::array& x, const std::optional<py::array>& out) {
        return unary(
            "silu_forward", x, "x",
            [](std::int64_t n, const auto* xp, auto* yp) { silu_forward(n, xp, yp); }, out);
      },
      py::arg("x"), py::kw_only(), py::arg("out") = py::none(),
      "y = x * sigmoid(x); into `out` when given (may be x).");
  m.def(
      "silu_backward",
      [](const py::array& x, const py::array& dy) {
        return binary("silu_backward", x, "x", dy,
                      [](std::int64_t n, const auto* xp, const auto* dyp, auto* dxp) {
                        silu_backward(n, xp, dyp, dxp);
                      });
      },
      py::arg("x"), py::arg("dy"),
      "dx = dy * s * (1 + x * (1 - s)), s = sigmoid(x) (x is the forward input).");

  m.def(
      "softplus_forward",
      [](const py::array& x, double beta, double threshold) {
        return unary("softplus_forward", x, "x", [=](std::int64_t n, const auto* xp, auto* yp) {
          using T = std::remove_const_t<std::remove_pointer_t<decltype(xp)>>;
          softplus_forward(n, xp, static_cast<T>(beta), static_cast<T>(threshold), yp);
        });
      },
      py::arg("x"), py::arg("beta"), py::arg("threshold"),
      "y = x where beta * x > threshold, else log1p(exp(beta * x)) / beta.");
  m.def(
      "softplus_backward",
      [](const py::array& x, const py::array& dy, double beta, double threshold) {
        return binary("softplus_backward", x, "x", dy,
                      [=](std::int64_t n, const auto* xp, const auto* dyp, auto* dxp) {
                        using T = std::remove_const_t<std::remove_pointer_t<decltype(xp)>>;
                        softplus_backward(n, xp, dyp, static_cast<T>(beta),
                                          static_cast<T>(threshold), dxp);
                      });
      },
      py::arg("x"), py::arg("dy"), py::arg("beta"), py::arg("threshold"),
      "dx = dy where beta * x > threshold, else dy * sigmoid(beta * x) (x is the forward input).");

  m.def(
      "hardtanh_forward",
      [](const py::array& x, double min_val, double max_val, const std::optional<py::array>& out) {
        check_hardtanh_bounds("hardtanh_forward", min_val, max_val);
        return unary(
            "hardtanh_forward", x, "x",
            [=](std::int64_t n, const auto* xp, auto* yp) {
              using T = std::remove_const_t<std::remove_pointer_t<decltype(xp)>>;
              hardtanh_forward(n, xp, static_cast<T>(min_val), static_cast<T>(max_val), yp);
            },
            out);
      },
      py::arg("x"), py::arg("min_val"), py::arg("max_val"), py::kw_only(),
      py::arg("out") = py::none(),
      "y = min(max(x, min_val), max_val) (NaN passes); into `out` when given (may be x).");
  m.def(
      "hardtanh_backward",
      [](const py::array& x, const py::array& dy, double min_val, double max_val) {
        check_hardtanh_bounds("hardtanh_backward", min_val, max_val);
        return binary("hardtanh_backward", x, "x", dy,
                      [=](std::int64_t n, const auto* xp, const auto* dyp, auto* dxp) {
                        using T = std::remove_const_t<std::remove_pointer_t<decltype(xp)>>;
                        hardtanh_backward(n, xp, dyp, static_cast<T>(min_val),
                                          static_cast<T>(max_val), dxp);
                      });
      },
      py::arg("x"), py::arg("dy"), py::arg("min_val"), py::arg("max_val"),
      "dx = 0 where x <= min_val or x >= max_val, else dy (x is the forward input).");

  m.def(
      "log_sigmoid_forward",
      [](const py::array& x) {
        return unary("log_sigmoid_forward", x, "x", [](std::int64_t n, const auto* xp, auto* yp) {
          log_sigmoid_forward(n, xp, yp);
        });
      },
      py::arg("x"), "y = min(x, 0) - log1p(exp(-|x|)) = log(sigmoid(x)), stable for any x.");
  m.def(
      "log_sigmoid_backward",
      [](const py::array& x, const py::array& dy) {
        return binary("log_sigmoid_backward", x, "x", dy,
                      [](std::int64_t n, const auto* xp, const auto* dyp, auto* dxp) {
                        log_sigmoid_backward(n, xp, dyp, dxp);
                      });
      },
      py::arg("x"), py::arg("dy"), "dx = dy * sigmoid(-x) (x is the forward input).");

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
