// Bindings of the loss kernels: cross-entropy, NLL, BCE, BCE with logits, MSE, L1, smooth L1,
// Huber.
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "bind_common.h"
#include "kernn/loss.h"

namespace kernn::bind {

namespace {

std::string prefix(const char* op) { return std::string("kernn.") + op + ": "; }

Reduction parse_reduction(const char* op, const std::string& reduction) {
  if (reduction == "mean") return Reduction::kMean;
  if (reduction == "sum") return Reduction::kSum;
  if (reduction == "none") return Reduction::kNone;
  throw py::value_error(prefix(op) + "argument 'reduction' is '" + reduction +
                        "'; expected 'mean', 'sum' or 'none'");
}

// The shape of the forward's result: the per-sample shape for "none", 0-d otherwise.
std::vector<py::ssize_t> loss_shape(Reduction reduction, const std::vector<py::ssize_t>& per_sample) {
  return reduction == Reduction::kNone ? per_sample : std::vector<py::ssize_t>{};
}

void check_dloss(const char* op, const py::array& dloss, DType dtype, Reduction reduction,
                 const std::vector<py::ssize_t>& per_sample) {
  require_dtype(dloss, dtype, op, "dloss");
  require_contiguous(dloss, op, "dloss");
  require_shape(dloss, loss_shape(reduction, per_sample), op, "dloss");
}

std::vector<py::ssize_t> shape_of(const py::array& a) {
  return std::vector<py::ssize_t>(a.shape(), a.shape() + a.ndim());
}

// logits/logp (N, C) of a float dtype, target int64 (N,) with every entry in [0, C) or
// ignore_index; IndexError naming the first bad target otherwise.
DType check_class_inputs(const char* op, const char* input_name, const py::array& input,
                         const py::array& target, std::int64_t ignore_index) {
  const DType dtype = float_dtype(input, op, input_name);
  require_ndim(input, 2, op, input_name);
  require_contiguous(input, op, input_name);
  require_int64(target, op, "target");
  require_contiguous(target, op, "target");
  require_shape(target, {input.shape(0)}, op, "target");
  const std::int64_t classes = input.shape(1);
  const auto* t = static_cast<const std::int64_t*>(target.data());
  const std::int64_t bad = first_invalid_target(target.size(), classes, t, ignore_index);
  if (bad >= 0) {
    std::ostringstream msg;
    msg << prefix(op) << "argument 'target' holds " << t[bad] << " at index " << bad
        << ", outside [0, C) for C = " << classes << " (" << input_name << " has shape "
        << shape_str(input) << ") and not ignore_index = " << ignore_index;
    throw py::index_error(msg.str());
  }
  return dtype;
}

// Cross-entropy and NLL share their signature: kernel(n, c, input, target, ignore, red, out).
template <typename Kernel>
py::array class_loss_forward(const char* op, const char* input_name, const py::array& input,
                             const py::array& target, const std::string& reduction_name,
                             std::int64_t ignore_index, Kernel kernel) {
  const Reduction reduction = parse_reduction(op, reduction_name);
  const DType dtype = check_class_inputs(op, input_name, input, target, ignore_index);
  return dispatch(dtype, [&](auto tag) -> py::array {
    using T = decltype(tag);
    py::array loss = empty_array<T>(loss_shape(reduction, {input.shape(0)}));
    const std::int64_t n = input.shape(0), c = input.shape(1);
    const T* x = in_ptr<T>(input);
    const auto* t = static_cast<const std::int64_t*>(target.data());
    T* out = out_ptr<T>(loss);
    {
      py::gil_scoped_release release;
      kernel(n, c, x, t, ignore_index, reduction, out);
    }
    return loss;
  });
}

template <typename Kernel>
py::array class_loss_backward(const char* op, const char* input_name, const py::array& input,
                              const py::array& target, const py::array& dloss,
                              const std::string& reduction_name, std::int64_t ignore_index,
                              Kernel kernel) {
  const Reduction reduction = parse_reduction(op, reduction_name);
  const DType dtype = check_class_inputs(op, input_name, input, target, ignore_index);
  check_dloss(op, dloss, dtype, reduction, {input.shape(0)});
  return dispatch(dtype, [&](auto tag) -> py::array {
    using T = decltype(tag);
    py::array grad = empty_array<T>(shape_of(input));
    const std::int64_t n = input.shape(0), c = input.shape(1);
    const T* x = in_ptr<T>(input);
    const auto* t = static_cast<const std::int64_t*>(target.data());
    const T* d = in_ptr<T>(dloss);
    T* out = out_ptr<T>(grad);
    {
      py::gil_scoped_release release;
      kernel(n, c, x, t, ignore_index, reduction, d, out);
    }
    return grad;
  });
}

// BCE requires probabilities and targets in [0, 1], as torch (which raises otherwise).
template <typename T>
void require_unit_interval(const char* op, const char* arg, const py::array& a) {
  const std::int64_t bad = first_outside_unit_interval(a.size(), in_ptr<T>(a));
  if (bad >= 0) {
    std::ostringstream msg;
    msg << prefix(op) << "argument '" << arg << "' with shape " << shape_str(a) << " holds "
        << in_ptr<T>(a)[bad] << " at flat index " << bad << "; every element must be in [0, 1]";
    throw py::value_error(msg.str());
  }
}

// Element-wise losses: input and target of one dtype and shape (any shape).
DType check_pointwise_inputs(const char* op, const char* input_name, const py::array& input,
                             const py::array& target, bool unit_interval) {
  const DType dtype = float_dtype(input, op, input_name);
  require_dtype(target, dtype, op, "target");
  require_contiguous(input, op, input_name);
  require_contiguous(target, op, "target");
  require_same_shape(input, target, op, input_name, "target");
  if (unit_interval) {
    dispatch(dtype, [&](auto tag) {
      using T = decltype(tag);
      require_unit_interval<T>(op, input_name, input);
      require_unit_interval<T>(op, "target", target);
    });
  }
  return dtype;
}

template <typename Kernel>
py::array pointwise_forward(const char* op, const char* input_name, bool unit_interval,
                            const py::array& input, const py::array& target,
                            const std::string& reduction_name, Kernel kernel) {
  const Reduction reduction = parse_reduction(op, reduction_name);
  const DType dtype = check_pointwise_inputs(op, input_name, input, target, unit_interval);
  return dispatch(dtype, [&](auto tag) -> py::array {
    using T = decltype(tag);
    py::array loss = empty_array<T>(loss_shape(reduction, shape_of(input)));
    const T* x = in_ptr<T>(input);
    const T* t = in_ptr<T>(target);
    T* out = out_ptr<T>(loss);
    const std::int64_t n = input.size();
    {
      py::gil_scoped_release release;
      kernel(n, x, t, reduction, out);
    }
    return loss;
  });
}

template <typename Kernel>
py::array pointwise_backward(const char* op, const char* input_name, bool unit_interval,
                             const py::array& input, const py::array& target,
                             const py::array& dloss, const std::string& reduction_name,
                             Kernel kernel) {
  const Reduction reduction = parse_reduction(op, reduction_name);
  const DType dtype = check_pointwise_inputs(op, input_name, input, target, unit_interval);
  check_dloss(op, dloss, dtype, reduction, shape_of(input));
  return dispatch(dtype, [&](auto tag) -> py::array {
    using T = decltype(tag);
    py::array grad = empty_array<T>(shape_of(input));
    const T* x = in_ptr<T>(input);
    const T* t = in_ptr<T>(target);
    const T* d = in_ptr<T>(dloss);
    T* out = out_ptr<T>(grad);
    const std::int64_t n = input.size();
    {
      py::gil_scoped_release release;
      kernel(n, x, t, reduction, d, out);
    }
    return grad;
  });
}

// Smooth L1's beta must be >= 0 and Huber's delta > 0 (a NaN is neither), as torch.
void require_non_negative(const char* op, const char* arg, double value) {
  if (!(value >= 0.0)) {
    throw py::value_error(prefix(op) + "argument '" + arg + "' is " + std::to_string(value) +
                          "; expected a value >= 0");
  }
}

void require_positive(const char* op, const char* arg, double value) {
  if (!(value > 0.0)) {
    throw py::value_error(prefix(op) + "argument '" + arg + "' is " + std::to_string(value) +
                          "; expected a value > 0");
  }
}

}  // namespace

void register_loss(py::module_& m) {
  m.def(
      "cross_entropy_forward",
      [](const py::array& logits, const py::array& target, const std::string& reduction,
         std::int64_t ignore_index) {
        return class_loss_forward("cross_entropy_forward", "logits", logits, target, reduction,
                                  ignore_index, [](auto... a) { cross_entropy_forward(a...); });
      },
      py::arg("logits"), py::arg("target"), py::arg("reduction"), py::arg("ignore_index"),
      "Cross-entropy of logits (N, C) and int64 class indices (N,) through log-sum-exp. "
      "Returns (N,) for 'none', else a 0-d array; 'mean' divides by the number of targets "
      "that are not ignore_index. A target outside [0, C) raises IndexError.");
  m.def(
      "cross_entropy_backward",
      [](const py::array& logits, const py::array& target, const py::array& dloss,
         const std::string& reduction, std::int64_t ignore_index) {
        return class_loss_backward("cross_entropy_backward", "logits", logits, target, dloss,
                                   reduction, ignore_index,
                                   [](auto... a) { cross_entropy_backward(a...); });
      },
      py::arg("logits"), py::arg("target"), py::arg("dloss"), py::arg("reduction"),
      py::arg("ignore_index"),
      "dlogits (N, C) = g * (softmax(logits) - one_hot(target)), 0 on ignored rows; dloss is "
      "(N,) for 'none', else 0-d.");
  m.def(
      "nll_loss_forward",
      [](const py::array& logp, const py::array& target, const std::string& reduction,
         std::int64_t ignore_index) {
        return class_loss_forward("nll_loss_forward", "logp", logp, target, reduction,
                                  ignore_index, [](auto... a) { nll_loss_forward(a...); });
      },
      py::arg("logp"), py::arg("target"), py::arg("reduction"), py::arg("ignore_index"),
      "Negative log-likelihood -logp[i, target[i]] of log-probabilities (N, C); reductions and "
      "ignore_index as cross_entropy_forward.");
  m.def(
      "nll_loss_backward",
      [](const py::array& logp, const py::array& target, const py::array& dloss,
         const std::string& reduction, std::int64_t ignore_index) {
        return class_loss_backward("nll_loss_backward", "logp", logp, target, dloss, reduction,
                                   ignore_index, [](auto... a) { nll_loss_backward(a...); });
      },
      py::arg("logp"), py::arg("target"), py::arg("dloss"), py::arg("reduction"),
      py::arg("ignore_index"), "dlogp (N, C): -g at each row's target, 0 elsewhere.");

  m.def(
      "bce_forward",
      [](const py::array& p, const py::array& target, const std::string& reduction) {
        return pointwise_forward("bce_forward", "p", true, p, target, reduction,
                                 [](auto... a) { bce_forward(a...); });
      },
      py::arg("p"), py::arg("target"), py::arg("reduction"),
      "Binary cross-entropy of probabilities p and targets (same shape, both in [0, 1]); each "
      "log is clamped at -100 as torch, so p = 0 or 1 gives a finite loss.");
  m.def(
      "bce_backward",
      [](const py::array& p, const py::array& target, const py::array& dloss,
         const std::string& reduction) {
        return pointwise_backward("bce_backward", "p", true, p, target, dloss, reduction,
                                  [](auto... a) { bce_backward(a...); });
      },
      py::arg("p"), py::arg("target"), py::arg("dloss"), py::arg("reduction"),
      "dp = g * (p - target) / max((1 - p) * p, 1e-12), divided by p.size for 'mean' (torch).");
  m.def(
      "bce_with_logits_forward",
      [](const py::array& x, const py::array& target, const std::string& reduction) {
        return pointwise_forward("bce_with_logits_forward", "x", false, x, target, reduction,
                                 [](auto... a) { bce_with_logits_forward(a...); });
      },
      py::arg("x"), py::arg("target"), py::arg("reduction"),
      "Binary cross-entropy of sigmoid(x) and target, computed stably from the logits x.");
  m.def(
      "bce_with_logits_backward",
      [](const py::array& x, const py::array& target, const py::array& dloss,
         const std::string& reduction) {
        return pointwise_backward("bce_with_logits_backward", "x", false, x, target, dloss,
                                  reduction, [](auto... a) { bce_with_logits_backward(a...); });
      },
      py::arg("x"), py::arg("target"), py::arg("dloss"), py::arg("reduction"),
      "dx = g * (sigmoid(x) - target), divided by x.size for 'mean'.");
  m.def(
      "mse_forward",
      [](const py::array& x, const py::array& target, const std::string& reduction) {
        return pointwise_forward("mse_forward", "x", false, x, target, reduction,
                                 [](auto... a) { mse_forward(a...); });
      },
      py::arg("x"), py::arg("target"), py::arg("reduction"), "Squared error (x - target)^2.");
  m.def(
      "mse_backward",
      [](const py::array& x, const py::array& target, const py::array& dloss,
         const std::string& reduction) {
        return pointwise_backward("mse_backward", "x", false, x, target, dloss, reduction,
                                  [](auto... a) { mse_backward(a...); });
      },
      py::arg("x"), py::arg("target"), py::arg("dloss"), py::arg("reduction"),
      "dx = norm * (x - target) * g with norm 2 / x.size for 'mean', else 2; the target's "
      "gradient is -dx.");
  m.def(
      "l1_forward",
      [](const py::array& x, const py::array& target, const std::string& reduction) {
        return pointwise_forward("l1_forward", "x", false, x, target, reduction,
                                 [](auto... a) { l1_forward(a...); });
      },
      py::arg("x"), py::arg("target"), py::arg("reduction"), "Absolute error |x - target|.");
  m.def(
      "l1_backward",
      [](const py::array& x, const py::array& target, const py::array& dloss,
         const std::string& reduction) {
        return pointwise_backward("l1_backward", "x", false, x, target, dloss, reduction,
                                  [](auto... a) { l1_backward(a...); });
      },
      py::arg("x"), py::arg("target"), py::arg("dloss"), py::arg("reduction"),
      "dx = sign(x - target) * g, g / x.size for 'mean'; the target's gradient is -dx.");
  m.def(
      "smooth_l1_forward",
      [](const py::array& x, const py::array& target, const std::string& reduction, double beta) {
        require_non_negative("smooth_l1_forward", "beta", beta);
        return pointwise_forward(
            "smooth_l1_forward", "x", false, x, target, reduction,
            [=](std::int64_t n, const auto* xp, const auto* tp, Reduction r, auto* out) {
              using T = std::remove_const_t<std::remove_pointer_t<decltype(xp)>>;
              smooth_l1_forward(n, xp, tp, static_cast<T>(beta), r, out);
            });
      },
      py::arg("x"), py::arg("target"), py::arg("reduction"), py::arg("beta"),
      "0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta, d = x - target (beta >= 0).");
  m.def(
      "smooth_l1_backward",
      [](const py::array& x, const py::array& target, const py::array& dloss,
         const std::string& reduction, double beta) {
        require_non_negative("smooth_l1_backward", "beta", beta);
        return pointwise_backward(
            "smooth_l1_backward", "x", false, x, target, dloss, reduction,
            [=](std::int64_t n, const auto* xp, const auto* tp, Reduction r, const auto* dp,
                auto* out) {
              using T = std::remove_const_t<std::remove_pointer_t<decltype(xp)>>;
              smooth_l1_backward(n, xp, tp, static_cast<T>(beta), r, dp, out);
            });
      },
      py::arg("x"), py::arg("target"), py::arg("dloss"), py::arg("reduction"), py::arg("beta"),
      "dx = g * clamp(d / beta, -1, 1) (sign(d) for beta 0); the target's gradient is -dx.");
  m.def(
      "huber_forward",
      [](const py::array& x, const py::array& target, const std::string& reduction, double delta) {
        require_positive("huber_forward", "delta", delta);
        return pointwise_forward(
            "huber_forward", "x", false, x, target, reduction,
            [=](std::int64_t n, const auto* xp, const auto* tp, Reduction r, auto* out) {
              using T = std::remove_const_t<std::remove_pointer_t<decltype(xp)>>;
              huber_forward(n, xp, tp, static_cast<T>(delta), r, out);
            });
      },
      py::arg("x"), py::arg("target"), py::arg("reduction"), py::arg("delta"),
      "0.5 d^2 where |d| < delta, else delta * (|d| - 0.5 delta), d = x - target (delta > 0).");
  m.def(
      "huber_backward",
      [](const py::array& x, const py::array& target, const py::array& dloss,
         const std::string& reduction, double delta) {
        require_positive("huber_backward", "delta", delta);
        return pointwise_backward(
            "huber_backward", "x", false, x, target, dloss, reduction,
            [=](std::int64_t n, const auto* xp, const auto* tp, Reduction r, const auto* dp,
                auto* out) {
              using T = std::remove_const_t<std::remove_pointer_t<decltype(xp)>>;
              huber_backward(n, xp, tp, static_cast<T>(delta), r, dp, out);
            });
      },
      py::arg("x"), py::arg("target"), py::arg("dloss"), py::arg("reduction"), py::arg("delta"),
      "dx = g * clamp(d, -delta, delta); the target's gradient is -dx.");
}

}  // namespace kernn::bind
