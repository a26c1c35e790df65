// Bindings of the fused optimizer updates. Everything is written in place, so every written
// array is taken without conversion (.noconvert() / an explicit isinstance check) and checked
// to be a C-contiguous, writeable array of the parameter's dtype and shape: a converted copy
// would swallow the update silently.
#include <optional>
#include <string>
#include <vector>

#include "bind_common.h"
#include "kernn/optim.h"

namespace kernn::bind {

namespace {

std::string prefix(const char* op) { return std::string("kernn.") + op + ": "; }

// Validates the parameter and its gradient; returns the dtype every other array must share.
DType check_param_grad(const char* op, const py::array& param, const py::array& grad) {
  const DType dtype = float_dtype(param, op, "param");
  require_writeable(param, op, "param");
  require_dtype(grad, dtype, op, "grad");
  require_contiguous(grad, op, "grad");
  require_same_shape(param, grad, op, "param", "grad");
  return dtype;
}

// An in-place state array: the parameter's dtype and shape, C-contiguous and writeable.
void require_state(const char* op, const char* name, const py::array& a, const py::array& param,
                   DType dtype) {
  require_dtype(a, dtype, op, name);
  require_writeable(a, op, name);
  require_same_shape(param, a, op, "param", name);
}

// An optional in-place state array: None exactly when `needed` is false (the message says
// which hyper-parameter decides), else an array of the parameter's dtype and shape.
std::optional<py::array> state_array(const char* op, const char* name, const py::object& obj, bool needed,
                      const char* needed_when, const py::array& param, DType dtype) {
  if (obj.is_none()) {
    if (needed) {
      throw py::value_error(prefix(op) + "argument '" + name + "' is None; it is required " +
                            needed_when);
    }
    return std::nullopt;
  }
  if (!needed) {
    throw py::value_error(prefix(op) + "argument '" + name + "' must be None unless " +
                          needed_when);
  }
  if (!py::isinstance<py::array>(obj)) {
    throw py::type_error(prefix(op) + "argument '" + name + "' must be a numpy array, got " +
                         py::str(py::type::of(obj)).cast<std::string>());
  }
  py::array a = py::reinterpret_borrow<py::array>(obj);
  require_state(op, name, a, param, dtype);
  return a;
}

template <typename T>
T* data_or_null(std::optional<py::array>& a) {
  return a ? out_ptr<T>(*a) : nullptr;
}

const py::array* ptr_or_null(const std::optional<py::array>& a) { return a ? &*a : nullptr; }

}  // namespace

void register_optim(py::module_& m) {
  m.def(
      "sgd_step",
      [](py::array param, const py::array& grad, const py::object& momentum_buffer, double lr,
         double momentum, double dampening, bool nesterov, double weight_decay, bool maximize,
         bool first_step) {
        const char* op = "sgd_step";
        const DType dtype = check_param_grad(op, param, grad);
        std::optional<py::array> buf = state_array(op, "momentum_buffer", momentum_buffer, momentum != 0.0,
                                    "when momentum != 0", param, dtype);
        require_apart(op, {{"param", &param}, {"momentum_buffer", ptr_or_null(buf)}},
                      {{"grad", &grad}});
        SgdOptions o;
        o.lr = lr;
        o.momentum = momentum;
        o.dampening = dampening;
        o.nesterov = nesterov;
        o.weight_decay = weight_decay;
        o.maximize = maximize;
        o.first_step = first_step;
        dispatch(dtype, [&](auto tag) {
          using T = decltype(tag);
          T* p = out_ptr<T>(param);
          const T* g = in_ptr<T>(grad);
          T* b = data_or_null<T>(buf);
          const std::int64_t n = param.size();
          py::gil_scoped_release release;
          sgd_step(n, p, g, b, o);
        });
      },
      py::arg("param").noconvert(), py::arg("grad"), py::arg("momentum_buffer").none(true),
      py::kw_only(), py::arg("lr"), py::arg("momentum"), py::arg("dampening"),
      py::arg("nesterov"), py::arg("weight_decay"), py::arg("maximize"), py::arg("first_step"),
      "One torch.optim.SGD update of `param`, in place. `momentum_buffer` (None when "
      "momentum == 0) is updated in place; on `first_step` it is set to the gradient.");

  m.def(
      "adam_step",
      [](py::array param, const py::array& grad, py::array exp_avg, py::array exp_avg_sq,
         const py::object& max_exp_avg_sq, std::int64_t step, double lr, double beta1,
         double beta2, double eps, double weight_decay, bool amsgrad,
         bool decoupled_weight_decay, bool maximize) {
        const char* op = "adam_step";
        const DType dtype = check_param_grad(op, param, grad);
        require_state(op, "exp_avg", exp_avg, param, dtype);
        require_state(op, "exp_avg_sq", exp_avg_sq, param, dtype);
        std::optional<py::array> vmax = state_array(op, "max_exp_avg_sq", max_exp_avg_sq, amsgrad,
                                     "when amsgrad is True", param, dtype);
        require_apart(op,
                      {{"param", &param},
                       {"exp_avg", &exp_avg},
                       {"exp_avg_sq", &exp_avg_sq},
                       {"max_exp_avg_sq", ptr_or_null(vmax)}},
                      {{"grad", &grad}});
        if (step < 1) {
          throw py::value_error(prefix(op) + "argument 'step' is " + std::to_string(step) +
                                "; it counts from 1 (already incremented, as torch)");
        }
        AdamOptions o;
        o.step = step;
        o.lr = lr;
        o.beta1 = beta1;
        o.beta2 = beta2;
        o.eps = eps;
        o.weight_decay = weight_decay;
        o.amsgrad = amsgrad;
        o.decoupled_weight_decay = decoupled_weight_decay;
        o.maximize = maximize;
        dispatch(dtype, [&](auto tag) {
          using T = decltype(tag);
          T* p = out_ptr<T>(param);
          const T* g = in_ptr<T>(grad);
          T* m1 = out_ptr<T>(exp_avg);
          T* m2 = out_ptr<T>(exp_avg_sq);
          T* mx = data_or_null<T>(vmax);
          const std::int64_t n = param.size();
          py::gil_scoped_release release;
          adam_step(n, p, g, m1, m2, mx, o);
        });
      },
      py::arg("param").noconvert(), py::arg("grad"), py::arg("exp_avg").noconvert(),
      py::arg("exp_avg_sq").noconvert(), py::arg("max_exp_avg_sq").none(true), py::kw_only(),
      py::arg("step"), py::arg("lr"), py::arg("beta1"), py::arg("beta2"), py::arg("eps"),
      py::arg("weight_decay"), py::arg("amsgrad"), py::arg("decoupled_weight_decay"),
      py::arg("maximize"),
      "One torch.optim.Adam update (AdamW with decoupled_weight_decay=True) of `param` and its "
      "state, in place. `step` counts from 1 (already incremented); `max_exp_avg_sq` is None "
      "unless amsgrad.");

  m.def(
      "rmsprop_step",
      [](py::array param, const py::array& grad, py::array square_avg,
         const py::object& momentum_buffer, const py::object& grad_avg, double lr, double alpha,
         double eps, double weight_decay, double momentum, bool centered, bool maximize) {
        const char* op = "rmsprop_step";
        const DType dtype = check_param_grad(op, param, grad);
        require_state(op, "square_avg", square_avg, param, dtype);
        std::optional<py::array> buf = state_array(op, "momentum_buffer", momentum_buffer, momentum > 0.0,
                                    "when momentum > 0", param, dtype);
        std::optional<py::array> gavg = state_array(op, "grad_avg", grad_avg, centered, "when centered is True",
                                     param, dtype);
        require_apart(op,
                      {{"param", &param},
                       {"square_avg", &square_avg},
                       {"momentum_buffer", ptr_or_null(buf)},
                       {"grad_avg", ptr_or_null(gavg)}},
                      {{"grad", &grad}});
        RmspropOptions o;
        o.lr = lr;
        o.alpha = alpha;
        o.eps = eps;
        o.weight_decay = weight_decay;
        o.momentum = momentum;
        o.centered = centered;
        o.maximize = maximize;
        dispatch(dtype, [&](auto tag) {
          using T = decltype(tag);
          T* p = out_ptr<T>(param);
          const T* g = in_ptr<T>(grad);
          T* sq = out_ptr<T>(square_avg);
          T* b = data_or_null<T>(buf);
          T* ga = data_or_null<T>(gavg);
          const std::int64_t n = param.size();
          py::gil_scoped_release release;
          rmsprop_step(n, p, g, sq, b, ga, o);
        });
      },
      py::arg("param").noconvert(), py::arg("grad"), py::arg("square_avg").noconvert(),
      py::arg("momentum_buffer").none(true), py::arg("grad_avg").none(true), py::kw_only(),
      py::arg("lr"), py::arg("alpha"), py::arg("eps"), py::arg("weight_decay"),
      py::arg("momentum"), py::arg("centered"), py::arg("maximize"),
      "One torch.optim.RMSprop update of `param` and its state, in place. `momentum_buffer` is "
      "None unless momentum > 0, `grad_avg` None unless centered.");
}

}  // namespace kernn::bind
