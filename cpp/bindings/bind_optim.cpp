// Bindings of the fused optimizer updates. One call updates a whole parameter group: every
// array argument is a list with one entry per parameter. Everything but the gradients is
// written in place, so every written array is taken without conversion (an explicit isinstance
// check) and checked to be a C-contiguous, writeable array of the parameter's dtype and shape:
// a converted copy would swallow the update silently. No written array may share memory with
// any other array of the call, since the parameters are updated in parallel.
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "bind_common.h"
#include "kernn/optim.h"

namespace kernn::bind {

namespace {

std::string prefix(const char* op) { return std::string("kernn.") + op + ": "; }

// The entries of a list argument (a list or a tuple) with one entry per parameter: TypeError
// for anything else, ValueError unless it has `count` entries (any number when count is
// unset: the parameter list itself).
std::vector<py::object> entries(const char* op, const char* name, const py::object& obj,
                                std::optional<std::size_t> count) {
  if (!py::isinstance<py::list>(obj) && !py::isinstance<py::tuple>(obj)) {
    throw py::type_error(prefix(op) + "argument '" + name +
                         "' must be a list with one entry per parameter, got " +
                         py::str(py::type::of(obj)).cast<std::string>());
  }
  const auto sequence = py::reinterpret_borrow<py::sequence>(obj);
  if (count && sequence.size() != *count) {
    throw py::value_error(prefix(op) + "argument '" + name + "' has " +
                          std::to_string(sequence.size()) + " entries; expected " +
                          std::to_string(*count) + ", one per parameter");
  }
  std::vector<py::object> out;
  out.reserve(sequence.size());
  for (const py::handle item : sequence) out.push_back(py::reinterpret_borrow<py::object>(item));
  return out;
}

// An entry of a list argument, named e.g. "exp_avgs[2]": it must be a numpy array (an array is
// never converted, so that an in-place update cannot land in a copy).
py::array array_entry(const char* op, const std::string& name, const py::object& obj) {
  if (!py::isinstance<py::array>(obj)) {
    throw py::type_error(prefix(op) + "argument '" + name + "' must be a numpy array, got " +
                         py::str(py::type::of(obj)).cast<std::string>());
  }
  return py::reinterpret_borrow<py::array>(obj);
}

// A list of state arrays, updated in place: `needed` says whether the hyper-parameters use it
// (`needed_when` says when); it must be None exactly when they do not.
struct StateList {
  const char* name;
  py::object list;
  bool needed;
  const char* needed_when;
};

// The checked arrays of one update: the parameters (written), their gradients (read) and each
// state list (written; empty when not needed), all of one float dtype, entry i of each with the
// shape of parameter i.
struct GroupArrays {
  DType dtype = DType::Float32;
  std::vector<py::array> params, grads;
  std::vector<std::vector<py::array>> states;  // [state list][parameter]

  std::size_t size() const { return params.size(); }
};

GroupArrays check_group(const char* op, const py::object& params, const py::object& grads,
                        const std::vector<StateList>& state_lists) {
  GroupArrays g;
  const std::vector<py::object> param_objs = entries(op, "params", params, std::nullopt);
  const std::size_t count = param_objs.size();
  const std::vector<py::object> grad_objs = entries(op, "grads", grads, count);
  // Every array with its name ("exp_avgs[2]"), named once: the checks' messages and
  // require_apart's operands share the strings.
  std::vector<Operand> written, read;
  std::vector<std::string> param_names(count);
  for (std::size_t i = 0; i < count; ++i) {
    const std::string index = "[" + std::to_string(i) + "]";
    param_names[i] = "params" + index;
    const std::string grad_name = "grads" + index;
    py::array param = array_entry(op, param_names[i], param_objs[i]);
    const DType dtype = float_dtype(param, op, param_names[i].c_str());
    if (i == 0) g.dtype = dtype;
    require_dtype(param, g.dtype, op, param_names[i].c_str());
    require_writeable(param, op, param_names[i].c_str());
    py::array grad = array_entry(op, grad_name, grad_objs[i]);
    require_dtype(grad, g.dtype, op, grad_name.c_str());
    require_contiguous(grad, op, grad_name.c_str());
    require_same_shape(param, grad, op, param_names[i].c_str(), grad_name.c_str());
    g.params.push_back(std::move(param));
    g.grads.push_back(std::move(grad));
    read.push_back({grad_name, nullptr});
  }
  for (std::size_t i = 0; i < count; ++i) {
    written.push_back({param_names[i], &g.params[i]});
    read[i].array = &g.grads[i];
  }
  // All state lists' arrays are held before any Operand points at one (no reallocation after).
  g.states.resize(state_lists.size());
  for (std::size_t k = 0; k < state_lists.size(); ++k) {
    const StateList& s = state_lists[k];
    if (s.list.is_none()) {
      if (s.needed && count > 0) {
        throw py::value_error(prefix(op) + "argument '" + s.name + "' is None; it is required " +
                              s.needed_when);
      }
      continue;
    }
    if (!s.needed) {
      throw py::value_error(prefix(op) + "argument '" + s.name + "' must be None unless " +
                            s.needed_when);
    }
    const std::vector<py::object> objs = entries(op, s.name, s.list, count);
    std::vector<py::array>& arrays = g.states[k];
    arrays.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
      std::string name = std::string(s.name) + "[" + std::to_string(i) + "]";
      py::array a = array_entry(op, name, objs[i]);
      require_dtype(a, g.dtype, op, name.c_str());
      require_writeable(a, op, name.c_str());
      require_same_shape(g.params[i], a, op, param_names[i].c_str(), name.c_str());
      arrays.push_back(std::move(a));
      written.push_back({std::move(name), &arrays.back()});
    }
  }
  require_apart(op, written, read);
  return g;
}

// Pointer to the data of state list k's entry i, or null when the list is not used.
template <typename T>
T* state_ptr(GroupArrays& g, std::size_t k, std::size_t i) {
  return g.states[k].empty() ? nullptr : out_ptr<T>(g.states[k][i]);
}

// A per-parameter integer or flag list (Adam's steps, SGD's first steps).
template <typename V>
std::vector<V> values(const char* op, const char* name, const py::object& obj, std::size_t count) {
  std::vector<V> out;
  out.reserve(count);
  for (const py::object& item : entries(op, name, obj, count)) {
    try {
      out.push_back(item.cast<V>());
    } catch (const py::cast_error&) {
      throw py::type_error(prefix(op) + "argument '" + name + "[" + std::to_string(out.size()) +
                           "]' must be " +
                           (std::is_same_v<V, bool> ? "a bool" : "an int in the int64 range") +
                           ", got " + py::repr(item).cast<std::string>());
    }
  }
  return out;
}

// The per-parameter step counts of Adam and Adagrad: counted from 1, already incremented.
std::vector<std::int64_t> step_counts(const char* op, const py::object& steps, std::size_t count) {
  std::vector<std::int64_t> step = values<std::int64_t>(op, "steps", steps, count);
  for (std::size_t i = 0; i < count; ++i) {
    if (step[i] < 1) {
      throw py::value_error(prefix(op) + "argument 'steps[" + std::to_string(i) + "]' is " +
                            std::to_string(step[i]) +
                            "; it counts from 1 (already incremented, as torch)");
    }
  }
  return step;
}

}  // namespace

void register_optim(py::module_& m) {
  m.def(
      "sgd_step",
      [](const py::object& params, const py::object& grads, const py::object& momentum_buffers,
         const py::object& first_steps, double lr, double momentum, double dampening,
         bool nesterov, double weight_decay, bool maximize) {
        const char* op = "sgd_step";
        GroupArrays g = check_group(
            op, params, grads, {{"momentum_buffers", momentum_buffers, momentum != 0.0,
                                 "when momentum != 0"}});
        const std::vector<bool> first = values<bool>(op, "first_steps", first_steps, g.size());
        SgdOptions o;
        o.lr = lr;
        o.momentum = momentum;
        o.dampening = dampening;
        o.nesterov = nesterov;
        o.weight_decay = weight_decay;
        o.maximize = maximize;
        dispatch(g.dtype, [&](auto tag) {
          using T = decltype(tag);
          std::vector<SgdParam<T>> ps(g.size());
          for (std::size_t i = 0; i < g.size(); ++i) {
            ps[i] = {static_cast<std::int64_t>(g.params[i].size()), out_ptr<T>(g.params[i]),
                     in_ptr<T>(g.grads[i]), state_ptr<T>(g, 0, i), first[i]};
          }
          py::gil_scoped_release release;
          sgd_step(ps, o);
        });
      },
      py::arg("params"), py::arg("grads"), py::arg("momentum_buffers").none(true),
      py::arg("first_steps"), py::kw_only(), py::arg("lr"), py::arg("momentum"),
      py::arg("dampening"), py::arg("nesterov"), py::arg("weight_decay"), py::arg("maximize"),
      "One torch.optim.SGD update of every array in `params`, in place. `momentum_buffers` "
      "(None when momentum == 0) are updated in place; a parameter whose `first_steps` entry is "
      "True has its buffer set to the gradient.");

  m.def(
      "adam_step",
      [](const py::object& params, const py::object& grads, const py::object& exp_avgs,
         const py::object& exp_avg_sqs, const py::object& max_exp_avg_sqs,
         const py::object& steps, double lr, double beta1, double beta2, double eps,
         double weight_decay, bool amsgrad, bool decoupled_weight_decay, bool maximize) {
        const char* op = "adam_step";
        GroupArrays g =
            check_group(op, params, grads,
                        {{"exp_avgs", exp_avgs, true, "for every update"},
                         {"exp_avg_sqs", exp_avg_sqs, true, "for every update"},
                         {"max_exp_avg_sqs", max_exp_avg_sqs, amsgrad, "when amsgrad is True"}});
        const std::vector<std::int64_t> step = step_counts(op, steps, g.size());
        AdamOptions o;
        o.lr = lr;
        o.beta1 = beta1;
        o.beta2 = beta2;
        o.eps = eps;
        o.weight_decay = weight_decay;
        o.amsgrad = amsgrad;
        o.decoupled_weight_decay = decoupled_weight_decay;
        o.maximize = maximize;
        dispatch(g.dtype, [&](auto tag) {
          using T = decltype(tag);
          std::vector<AdamParam<T>> ps(g.size());
          for (std::size_t i = 0; i < g.size(); ++i) {
            ps[i] = {static_cast<std::int64_t>(g.params[i].size()), step[i],
                     out_ptr<T>(g.params[i]),  in_ptr<T>(g.grads[i]),
                     state_ptr<T>(g, 0, i),    state_ptr<T>(g, 1, i),
                     state_ptr<T>(g, 2, i)};
          }
          py::gil_scoped_release release;
          adam_step(ps, o);
        });
      },
      py::arg("params"), py::arg("grads"), py::arg("exp_avgs"), py::arg("exp_avg_sqs"),
      py::arg("max_exp_avg_sqs").none(true), py::arg("steps"), py::kw_only(), py::arg("lr"),
      py::arg("beta1"), py::arg("beta2"), py::arg("eps"), py::arg("weight_decay"),
      py::arg("amsgrad"), py::arg("decoupled_weight_decay"), py::arg("maximize"),
      "One torch.optim.Adam update (AdamW with decoupled_weight_decay=True) of every array in "
      "`params` and its state, in place. `steps` holds each parameter's step, counted from 1 "
      "(already incremented); `max_exp_avg_sqs` is None unless amsgrad.");

  m.def(
      "rmsprop_step",
      [](const py::object& params, const py::object& grads, const py::object& square_avgs,
         const py::object& momentum_buffers, const py::object& grad_avgs, double lr,
         double alpha, double eps, double weight_decay, double momentum, bool centered,
         bool maximize) {
        const char* op = "rmsprop_step";
        GroupArrays g = check_group(
            op, params, grads,
            {{"square_avgs", square_avgs, true, "for every update"},
             {"momentum_buffers", momentum_buffers, momentum > 0.0, "when momentum > 0"},
             {"grad_avgs", grad_avgs, centered, "when centered is True"}});
        RmspropOptions o;
        o.lr = lr;
        o.alpha = alpha;
        o.eps = eps;
        o.weight_decay = weight_decay;
        o.momentum = momentum;
        o.centered = centered;
        o.maximize = maximize;
        dispatch(g.dtype, [&](auto tag) {
          using T = decltype(tag);
          std::vector<RmspropParam<T>> ps(g.size());
          for (std::size_t i = 0; i < g.size(); ++i) {
            ps[i] = {static_cast<std::int64_t>(g.params[i].size()), out_ptr<T>(g.params[i]),
                     in_ptr<T>(g.grads[i]), state_ptr<T>(g, 0, i), state_ptr<T>(g, 1, i),
                     state_ptr<T>(g, 2, i)};
          }
          py::gil_scoped_release release;
          rmsprop_step(ps, o);
        });
      },
      py::arg("params"), py::arg("grads"), py::arg("square_avgs"),
      py::arg("momentum_buffers").none(true), py::arg("grad_avgs").none(true), py::kw_only(),
      py::arg("lr"), py::arg("alpha"), py::arg("eps"), py::arg("weight_decay"),
      py::arg("momentum"), py::arg("centered"), py::arg("maximize"),
      "One torch.optim.RMSprop update of every array in `params` and its state, in place. "
      "`momentum_buffers` is None unless momentum > 0, `grad_avgs` None unless centered.");

  m.def(
      "adadelta_step",
      [](const py::object& params, const py::object& grads, const py::object& square_avgs,
         const py::object& acc_deltas, double lr, double rho, double eps, double weight_decay,
         bool maximize) {
        const char* op = "adadelta_step";
        GroupArrays g = check_group(op, params, grads,
                                    {{"square_avgs", square_avgs, true, "for every update"},
                                     {"acc_deltas", acc_deltas, true, "for every update"}});
        AdadeltaOptions o;
        o.lr = lr;
        o.rho = rho;
        o.eps = eps;
        o.weight_decay = weight_decay;
        o.maximize = maximize;
        dispatch(g.dtype, [&](auto tag) {
          using T = decltype(tag);
          std::vector<AdadeltaParam<T>> ps(g.size());
          for (std::size_t i = 0; i < g.size(); ++i) {
            ps[i] = {static_cast<std::int64_t>(g.params[i].size()), out_ptr<T>(g.params[i]),
                     in_ptr<T>(g.grads[i]), state_ptr<T>(g, 0, i), state_ptr<T>(g, 1, i)};
          }
          py::gil_scoped_release release;
          adadelta_step(ps, o);
        });
      },
      py::arg("params"), py::arg("grads"), py::arg("square_avgs"), py::arg("acc_deltas"),
      py::kw_only(), py::arg("lr"), py::arg("rho"), py::arg("eps"), py::arg("weight_decay"),
      py::arg("maximize"),
      "One torch.optim.Adadelta update of every array in `params` and its state "
      "(`square_avgs`, `acc_deltas`), in place.");

  m.def(
      "adagrad_step",
      [](const py::object& params, const py::object& grads, const py::object& state_sums,
         const py::object& steps, double lr, double lr_decay, double weight_decay, double eps,
         bool maximize) {
        const char* op = "adagrad_step";
        GroupArrays g =
            check_group(op, params, grads, {{"state_sums", state_sums, true, "for every update"}});
        const std::vector<std::int64_t> step = step_counts(op, steps, g.size());
        AdagradOptions o;
        o.lr = lr;
        o.lr_decay = lr_decay;
        o.weight_decay = weight_decay;
        o.eps = eps;
        o.maximize = maximize;
        dispatch(g.dtype, [&](auto tag) {
          using T = decltype(tag);
          std::vector<AdagradParam<T>> ps(g.size());
          for (std::size_t i = 0; i < g.size(); ++i) {
            ps[i] = {static_cast<std::int64_t>(g.params[i].size()), step[i],
                     out_ptr<T>(g.params[i]), in_ptr<T>(g.grads[i]), state_ptr<T>(g, 0, i)};
          }
          py::gil_scoped_release release;
          adagrad_step(ps, o);
        });
      },
      py::arg("params"), py::arg("grads"), py::arg("state_sums"), py::arg("steps"),
      py::kw_only(), py::arg("lr"), py::arg("lr_decay"), py::arg("weight_decay"), py::arg("eps"),
      py::arg("maximize"),
      "One torch.optim.Adagrad update of every array in `params` and its state (`state_sums`), "
      "in place. `steps` holds each parameter's step, counted from 1 (already incremented).");
}

}  // namespace kernn::bind
