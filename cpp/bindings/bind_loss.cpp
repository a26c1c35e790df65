// Bindings of the loss kernels: cross-entropy, NLL, BCE, BCE with logits, MSE, L1, smooth L1,
// Huber.
#include <cmath>
#include <optional>
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

// An optional weight operand: None, or a C-contiguous array of the input's dtype and `shape`.
std::optional<py::array> optional_weight(const char* op, const char* arg, const py::object& w,
                                         DType dtype, const std::vector<py::ssize_t>& shape) {
  if (w.is_none()) return std::nullopt;
  if (!py::isinstance<py::array>(w)) {
    throw py::type_error(prefix(op) + "argument '" + arg + "' must be a numpy array or None, got " +
                         std::string(py::str(py::type::of(w).attr("__name__"))));
  }
  py::array a = py::reinterpret_borrow<py::array>(w);
  require_dtype(a, dtype, op, arg);
  require_contiguous(a, op, arg);
  require_shape(a, shape, op, arg);
  return a;
}

template <typename T>
const T* weight_ptr(const std::optional<py::array>& w) {
  return w ? in_ptr<T>(*w) : nullptr;
}

// label_smoothing in [0, 1], as torch requires (NaN fails too).
void check_label_smoothing(const char* op, double label_smoothing) {
  if (!(label_smoothing >= 0.0 && label_smoothing <= 1.0)) {
    std::ostringstream msg;
    msg << prefix(op) << "argument 'label_smoothing' is " << label_smoothing
        << "; it must be in [0, 1]";
    throw py::value_error(msg.str());
  }
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

// Cross-entropy and NLL share their signature up to the smoothing, which the caller's kernel
// adds: kernel(n, c, input, target, ignore, weight, red, out); weight (C,) or None.
template <typename Kernel>
py::array class_loss_forward(const char* op, const char* input_name, const py::array& input,
                             const py::array& target, const std::string& reduction_name,
                             std::int64_t ignore_index, const py::object& weight, Kernel kernel) {
  const Reduction reduction = parse_reduction(op, reduction_name);
  const DType dtype = check_class_inputs(op, input_name, input, target, ignore_index);
  const auto w = optional_weight(op, "weight", weight, dtype, {input.shape(1)});
  return dispatch(dtype, [&](auto tag) -> py::array {
    using T = decltype(tag);
    py::array loss = empty_array<T>(loss_shape(reduction, {input.shape(0)}));
    const std::int64_t n = input.shape(0), c = input.shape(1);
    const T* x = in_ptr<T>(input);
    const auto* t = static_cast<const std::int64_t*>(target.data());
    T* out = out_ptr<T>(loss);
    {
      py::gil_scoped_release release;
      kernel(n, c, x, t, ignore_index, weight_ptr<T>(w), reduction, out);
    }
    return loss;
  });
}

template <typename Kernel>
py::array class_loss_backward(const char* op, const char* input_name, const py::array& input,
                              const py::array& target, const py::array& dloss,
                              const std::string& reduction_name, std::int64_t ignore_index,
                              const py::object& weight, Kernel kernel) {
  const Reduction reduction = parse_reduction(op, reduction_name);
  const DType dtype = check_class_inputs(op, input_name, input, target, ignore_index);
  const auto w = optional_weight(op, "weight", weight, dtype, {input.shape(1)});
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
      kernel(n, c, x, t, ignore_index, weight_ptr<T>(w), reduction, d, out);
    }
    return grad;
  });
}

// Cross-entropy against class probabilities: logits and target (N, C) of one float dtype.
DType check_soft_inputs(const char* op, const py::array& logits, const py::array& target,
                        double label_smoothing) {
  const DType dtype = float_dtype(logits, op, "logits");
  require_ndim(logits, 2, op, "logits");
  require_contiguous(logits, op, "logits");
  require_dtype(target, dtype, op, "target");
  require_contiguous(target, op, "target");
  require_same_shape(logits, target, op, "logits", "target");
  check_label_smoothing(op, label_smoothing);
  return dtype;
}

py::array cross_entropy_soft_forward_binding(const py::array& logits, const py::array& target,
                                             const std::string& reduction_name,
                                             const py::object& weight, double label_smoothing) {
  const char* op = "cross_entropy_soft_forward";
  const Reduction reduction = parse_reduction(op, reduction_name);
  const DType dtype = check_soft_inputs(op, logits, target, label_smoothing);
  const auto w = optional_weight(op, "weight", weight, dtype, {logits.shape(1)});
  return dispatch(dtype, [&](auto tag) -> py::array {
    using T = decltype(tag);
    py::array loss = empty_array<T>(loss_shape(reduction, {logits.shape(0)}));
    const T* x = in_ptr<T>(logits);
    const T* t = in_ptr<T>(target);
    const T* wp = weight_ptr<T>(w);
    T* out = out_ptr<T>(loss);
    const std::int64_t n = logits.shape(0), c = logits.shape(1);
    {
      py::gil_scoped_release release;
      cross_entropy_soft_forward(n, c, x, t, wp, label_smoothing, reduction, out);
    }
    return loss;
  });
}

py::tuple cross_entropy_soft_backward_binding(const py::array& logits, const py::array& target,
                                              const py::array& dloss,
                                              const std::string& reduction_name,
                                              const py::object& weight, double label_smoothing,
                                              bool target_grad) {
  const char* op = "cross_entropy_soft_backward";
  const Reduction reduction = parse_reduction(op, reduction_name);
  const DType dtype = check_soft_inputs(op, logits, target, label_smoothing);
  const auto w = optional_weight(op, "weight", weight, dtype, {logits.shape(1)});
  check_dloss(op, dloss, dtype, reduction, {logits.shape(0)});
  return dispatch(dtype, [&](auto tag) -> py::tuple {
    using T = decltype(tag);
    py::array dlogits = empty_array<T>(shape_of(logits));
    py::object dtarget = py::none();
    T* dt = nullptr;
    if (target_grad) {
      py::array a = empty_array<T>(shape_of(target));
      dt = out_ptr<T>(a);
      dtarget = a;
    }
    const T* x = in_ptr<T>(logits);
    const T* t = in_ptr<T>(target);
    const T* wp = weight_ptr<T>(w);
    const T* d = in_ptr<T>(dloss);
    T* dx = out_ptr<T>(dlogits);
    const std::int64_t n = logits.shape(0), c = logits.shape(1);
    {
      py::gil_scoped_release release;
      cross_entropy_soft_backward(n, c, x, t, wp, label_smoothing, reduction, d, dx, dt);
    }
    return py::make_tuple(dlogits, dtarget);
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

// An optional weight of an element-wise loss (BCE's weight, BCE with logits' weight and
// pos_weight): None or an array of the input's shape, broadcast by the caller.
struct NamedWeight {
  const char* name;
  const py::object& value;
};

// The element-wise losses: kernel(n, input, target, weights, reduction, out), `weights` the
// pointers of `named` in order, null for None.
template <typename Kernel>
py::array weighted_pointwise_forward(const char* op, const char* input_name, bool unit_interval,
                                     const py::array& input, const py::array& target,
                                     const std::string& reduction_name,
                                     const std::vector<NamedWeight>& named, Kernel kernel) {
  const Reduction reduction = parse_reduction(op, reduction_name);
  const DType dtype = check_pointwise_inputs(op, input_name, input, target, unit_interval);
  std::vector<std::optional<py::array>> w;
  for (const NamedWeight& nw : named) {
    w.push_back(optional_weight(op, nw.name, nw.value, dtype, shape_of(input)));
  }
  return dispatch(dtype, [&](auto tag) -> py::array {
    using T = decltype(tag);
    py::array loss = empty_array<T>(loss_shape(reduction, shape_of(input)));
    const T* x = in_ptr<T>(input);
    const T* t = in_ptr<T>(target);
    std::vector<const T*> wp;
    for (const auto& a : w) wp.push_back(weight_ptr<T>(a));
    T* out = out_ptr<T>(loss);
    const std::int64_t n = input.size();
    {
      py::gil_scoped_release release;
      kernel(n, x, t, wp.data(), reduction, out);
    }
    return loss;
  });
}

template <typename Kernel>
py::array weighted_pointwise_backward(const char* op, const char* input_name, bool unit_interval,
                                      const py::array& input, const py::array& target,
                                      const py::array& dloss, const std::string& reduction_name,
                                      const std::vector<NamedWeight>& named, Kernel kernel) {
  const Reduction reduction = parse_reduction(op, reduction_name);
  const DType dtype = check_pointwise_inputs(op, input_name, input, target, unit_interval);
  std::vector<std::optional<py::array>> w;
  for (const NamedWeight& nw : named) {
    w.push_back(optional_weight(op, nw.name, nw.value, dtype, shape_of(input)));
  }
  check_dloss(op, dloss, dtype, reduction, shape_of(input));
  return dispatch(dtype, [&](auto tag) -> py::array {
    using T = decltype(tag);
    py::array grad = empty_array<T>(shape_of(input));
    const T* x = in_ptr<T>(input);
    const T* t = in_ptr<T>(target);
    std::vector<const T*> wp;
    for (const auto& a : w) wp.push_back(weight_ptr<T>(a));
    const T* d = in_ptr<T>(dloss);
    T* out = out_ptr<T>(grad);
    const std::int64_t n = input.size();
    {
      py::gil_scoped_release release;
      kernel(n, x, t, wp.data(), reduction, d, out);
    }
    return grad;
  });
}

// The unweighted element-wise losses: kernel(n, input, target, reduction, out).
template <typename Kernel>
py::array pointwise_forward(const char* op, const char* input_name, bool unit_interval,
                            const py::array& input, const py::array& target,
                            const std::string& reduction_name, Kernel kernel) {
  return weighted_pointwise_forward(
      op, input_name, unit_interval, input, target, reduction_name, {},
      [&](auto n, auto x, auto t, auto /*weights*/, auto r, auto out) { kernel(n, x, t, r, out); });
}

template <typename Kernel>
py::array pointwise_backward(const char* op, const char* input_name, bool unit_interval,
                             const py::array& input, const py::array& target,
                             const py::array& dloss, const std::string& reduction_name,
                             Kernel kernel) {
  return weighted_pointwise_backward(
      op, input_name, unit_interval, input, target, dloss, reduction_name, {},
      [&](auto n, auto x, auto t, auto /*weights*/, auto r, auto d, auto out) {
        kernel(n, x, t, r, d, out);
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
         std::int64_t ignore_index, const py::object& weight, double label_smoothing) {
        check_label_smoothing("cross_entropy_forward", label_smoothing);
        return class_loss_forward("cross_entropy_forward", "logits", logits, target, reduction,
                                  ignore_index, weight,
                                  [=](auto n, auto c, auto x, auto t, auto ig, auto w, auto r,
                                      auto out) {
                                    cross_entropy_forward(n, c, x, t, ig, w, label_smoothing, r,
                                                          out);
                                  });
      },
      py::arg("logits"), py::arg("target"), py::arg("reduction"), py::arg("ignore_index"),
      py::arg("weight") = py::none(), py::arg("label_smoothing") = 0.0,
      "Cross-entropy of logits (N, C) and int64 class indices (N,) through log-sum-exp, with "
      "optional class weights (C,) and label smoothing in [0, 1] (torch's formulas). Returns "
      "(N,) for 'none', else a 0-d array; 'mean' divides by the summed weight of the targets "
      "that are not ignore_index (their number without weights). A target outside [0, C) "
      "raises IndexError.");
  m.def(
      "cross_entropy_backward",
      [](const py::array& logits, const py::array& target, const py::array& dloss,
         const std::string& reduction, std::int64_t ignore_index, const py::object& weight,
         double label_smoothing) {
        check_label_smoothing("cross_entropy_backward", label_smoothing);
        return class_loss_backward("cross_entropy_backward", "logits", logits, target, dloss,
                                   reduction, ignore_index, weight,
                                   [=](auto n, auto c, auto x, auto t, auto ig, auto w, auto r,
                                       auto d, auto out) {
                                     cross_entropy_backward(n, c, x, t, ig, w, label_smoothing,
                                                            r, d, out);
                                   });
      },
      py::arg("logits"), py::arg("target"), py::arg("dloss"), py::arg("reduction"),
      py::arg("ignore_index"), py::arg("weight") = py::none(), py::arg("label_smoothing") = 0.0,
      "dlogits (N, C) = g * (softmax(logits) - one_hot(target)) without options (see loss.h "
      "for weights and smoothing), 0 on ignored rows; dloss is (N,) for 'none', else 0-d.");
  m.def("cross_entropy_soft_forward", &cross_entropy_soft_forward_binding, py::arg("logits"),
        py::arg("target"), py::arg("reduction"), py::arg("weight") = py::none(),
        py::arg("label_smoothing") = 0.0,
        "Cross-entropy of logits (N, C) against class probabilities target (N, C): "
        "-sum_j w_j * q_j * log_softmax(logits)_j with q = (1 - label_smoothing) * target + "
        "label_smoothing / C; 'mean' divides by N (torch).");
  m.def("cross_entropy_soft_backward", &cross_entropy_soft_backward_binding, py::arg("logits"),
        py::arg("target"), py::arg("dloss"), py::arg("reduction"),
        py::arg("weight") = py::none(), py::arg("label_smoothing") = 0.0,
        py::arg("target_grad") = false,
        "(dlogits, dtarget): dlogits = g * (softmax * sum_k w_k q_k - w * q); dtarget = "
        "-g * (1 - label_smoothing) * w * log_softmax when target_grad, else None.");
  m.def(
      "nll_loss_forward",
      [](const py::array& logp, const py::array& target, const std::string& reduction,
         std::int64_t ignore_index, const py::object& weight) {
        return class_loss_forward("nll_loss_forward", "logp", logp, target, reduction,
                                  ignore_index, weight, [](auto... a) { nll_loss_forward(a...); });
      },
      py::arg("logp"), py::arg("target"), py::arg("reduction"), py::arg("ignore_index"),
      py::arg("weight") = py::none(),
      "Negative log-likelihood -w[target[i]] * logp[i, target[i]] of log-probabilities (N, C); "
      "weight, reductions and ignore_index as cross_entropy_forward.");
  m.def(
      "nll_loss_backward",
      [](const py::array& logp, const py::array& target, const py::array& dloss,
         const std::string& reduction, std::int64_t ignore_index, const py::object& weight) {
        return class_loss_backward("nll_loss_backward", "logp", logp, target, dloss, reduction,
                                   ignore_index, weight,
                                   [](auto... a) { nll_loss_backward(a...); });
      },
      py::arg("logp"), py::arg("target"), py::arg("dloss"), py::arg("reduction"),
      py::arg("ignore_index"), py::arg("weight") = py::none(),
      "dlogp (N, C): -g * w[target] at each row's target, 0 elsewhere.");

  m.def(
      "bce_forward",
      [](const py::array& p, const py::array& target, const std::string& reduction,
         const py::object& weight) {
        return weighted_pointwise_forward(
            "bce_forward", "p", true, p, target, reduction, {{"weight", weight}},
            [](auto n, auto x, auto t, auto w, auto r, auto out) {
              bce_forward(n, x, t, w[0], r, out);
            });
      },
      py::arg("p"), py::arg("target"), py::arg("reduction"), py::arg("weight") = py::none(),
      "Binary cross-entropy of probabilities p and targets (same shape, both in [0, 1]), times "
      "weight (p's shape) if given; each log is clamped at -100 as torch, so p = 0 or 1 gives a "
      "finite loss.");
  m.def(
      "bce_backward",
      [](const py::array& p, const py::array& target, const py::array& dloss,
         const std::string& reduction, const py::object& weight) {
        return weighted_pointwise_backward(
            "bce_backward", "p", true, p, target, dloss, reduction, {{"weight", weight}},
            [](auto n, auto x, auto t, auto w, auto r, auto d, auto out) {
              bce_backward(n, x, t, w[0], r, d, out);
            });
      },
      py::arg("p"), py::arg("target"), py::arg("dloss"), py::arg("reduction"),
      py::arg("weight") = py::none(),
      "dp = g * (p - target) / max((1 - p) * p, 1e-12) * weight, divided by p.size for 'mean' "
      "(torch).");
  m.def(
      "bce_with_logits_forward",
      [](const py::array& x, const py::array& target, const std::string& reduction,
         const py::object& weight, const py::object& pos_weight) {
        return weighted_pointwise_forward(
            "bce_with_logits_forward", "x", false, x, target, reduction,
            {{"weight", weight}, {"pos_weight", pos_weight}},
            [](auto n, auto v, auto t, auto w, auto r, auto out) {
              bce_with_logits_forward(n, v, t, w[0], w[1], r, out);
            });
      },
      py::arg("x"), py::arg("target"), py::arg("reduction"), py::arg("weight") = py::none(),
      py::arg("pos_weight") = py::none(),
      "Binary cross-entropy of sigmoid(x) and target, computed stably from the logits x, with "
      "optional weight and pos_weight of x's shape (torch's formula).");
  m.def(
      "bce_with_logits_backward",
      [](const py::array& x, const py::array& target, const py::array& dloss,
         const std::string& reduction, const py::object& weight, const py::object& pos_weight) {
        return weighted_pointwise_backward(
            "bce_with_logits_backward", "x", false, x, target, dloss, reduction,
            {{"weight", weight}, {"pos_weight", pos_weight}},
            [](auto n, auto v, auto t, auto w, auto r, auto d, auto out) {
              bce_with_logits_backward(n, v, t, w[0], w[1], r, d, out);
            });
      },
      py::arg("x"), py::arg("target"), py::arg("dloss"), py::arg("reduction"),
      py::arg("weight") = py::none(), py::arg("pos_weight") = py::none(),
      "dx = g * (sigmoid(x) - target) without weights (see loss.h), divided by x.size for "
      "'mean'.");
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
