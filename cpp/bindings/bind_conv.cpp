// Convolution bindings: conv2d forward (fast and reference) and backward, NCHW.
#include <pybind11/stl.h>

#include <optional>
#include <sstream>

#include "bind_common.h"
#include "bind_spatial.h"
#include "kernn/conv.h"

namespace kernn::bind {

namespace {

// The float dtype of a conv2d call's input, with input and weight checked: that dtype for
// both, C-contiguous.
DType conv_dtype(const char* op, const py::array& x, const py::array& weight) {
  const DType dt = float_dtype(x, op, "input");
  require_contiguous(x, op, "input");
  require_dtype(weight, dt, op, "weight");
  require_contiguous(weight, op, "weight");
  return dt;
}

// Checks input, weight and geometry of a conv2d call and computes the output size.
Conv2dParams conv_params(const char* op, const py::array& x, const py::array& weight,
                         const py::object& stride, const py::object& padding,
                         const py::object& dilation, std::int64_t groups) {
  require_ndim(x, 4, op, "input");
  require_ndim(weight, 4, op, "weight");
  const Pair s = pair_arg(stride, op, "stride", 1);
  const Pair pad = pair_arg(padding, op, "padding", 0);
  const Pair d = pair_arg(dilation, op, "dilation", 1);
  if (groups < 1) {
    throw py::value_error(std::string("kernn.") + op + ": argument 'groups' must be >= 1, got " +
                          std::to_string(groups));
  }
  Conv2dParams p;
  p.N = x.shape(0), p.C = x.shape(1), p.H = x.shape(2), p.W = x.shape(3);
  p.K = weight.shape(0), p.kh = weight.shape(2), p.kw = weight.shape(3);
  p.sh = s.h, p.sw = s.w, p.ph = pad.h, p.pw = pad.w, p.dh = d.h, p.dw = d.w;
  p.groups = groups;
  std::ostringstream msg;
  msg << "kernn." << op << ": ";
  if (p.C % groups != 0 || p.K % groups != 0) {
    msg << "argument 'groups' = " << groups << " must divide the input channels (" << p.C
        << ") and the output channels (" << p.K << ")";
    throw py::value_error(msg.str());
  }
  if (weight.shape(1) * groups != p.C) {
    msg << "argument 'input' " << shape_str(x) << " has " << p.C
        << " channels but argument 'weight' " << shape_str(weight)
        << " expects in_channels * groups = " << weight.shape(1) << " * " << groups << " = "
        << weight.shape(1) * groups;
    throw py::value_error(msg.str());
  }
  if (p.K < 1 || p.kh < 1 || p.kw < 1 || p.H < 1 || p.W < 1) {
    msg << "arguments 'input' " << shape_str(x) << " and 'weight' " << shape_str(weight)
        << " must have non-empty channel and spatial extents";
    throw py::value_error(msg.str());
  }
  p.Ho = conv_output_size(p.H, p.kh, p.sh, p.ph, p.dh);
  p.Wo = conv_output_size(p.W, p.kw, p.sw, p.pw, p.dw);
  if (p.Ho < 1 || p.Wo < 1) {
    msg << "computed output size (" << p.Ho << ", "
        << p.Wo << ") is too small: input size (" << p.H << ", " << p.W << ") with padding "
        << pair_str(pad) << " is smaller than the dilated kernel ("
        << d.h * (p.kh - 1) + 1 << ", " << d.w * (p.kw - 1) + 1 << ") of weight "
        << shape_str(weight) << " with dilation " << pair_str(d);
    throw py::value_error(msg.str());
  }
  return p;
}

template <typename T>
const T* bias_ptr(const std::optional<py::array>& bias, DType dt, std::int64_t K, const char* op) {
  if (!bias) return nullptr;
  require_dtype(*bias, dt, op, "bias");
  require_contiguous(*bias, op, "bias");
  require_shape(*bias, {K}, op, "bias");
  return static_cast<const T*>(bias->data());
}

template <bool Reference>
py::array forward(const py::array& x, const py::array& weight,
                  const std::optional<py::array>& bias, const py::object& stride,
                  const py::object& padding, const py::object& dilation, std::int64_t groups) {
  const char* op = Reference ? "conv2d_reference" : "conv2d";
  const DType dt = conv_dtype(op, x, weight);
  const Conv2dParams p = conv_params(op, x, weight, stride, padding, dilation, groups);
  check_allocation({p.N, p.K, p.Ho, p.Wo}, itemsize(dt), op, "the output");
  return dispatch(dt, [&](auto tag) {
    using T = decltype(tag);
    const T* b = bias_ptr<T>(bias, dt, p.K, op);
    py::array y = empty_array<T>({p.N, p.K, p.Ho, p.Wo});
    {
      py::gil_scoped_release release;
      if (Reference) {
        conv2d_forward_reference<T>(in_ptr<T>(x), in_ptr<T>(weight), b, p, out_ptr<T>(y));
      } else {
        conv2d_forward<T>(in_ptr<T>(x), in_ptr<T>(weight), b, p, out_ptr<T>(y));
      }
    }
    return y;
  });
}

constexpr const char* kForwardDoc =
    "2-D convolution (cross-correlation) of input (N, C, H, W) with weight\n"
    "(K, C/groups, kh, kw) plus bias (K,) or None -> (N, K, Ho, Wo),\n"
    "Ho = (H + 2*padding - dilation*(kh-1) - 1) // stride + 1. stride, padding, dilation: an\n"
    "int or (h, w).";

}  // namespace

void register_conv(py::module_& m) {
  m.def("conv2d_forward", &forward<false>, py::arg("input"), py::arg("weight"),
        py::arg("bias") = py::none(), py::arg("stride") = 1, py::arg("padding") = 0,
        py::arg("dilation") = 1, py::arg("groups") = 1,
        (std::string(kForwardDoc) +
         "\nThe direct kernel (AVX-512, unit width stride, output rows filling their vectors;\n"
         "bias added as the tiles are stored), else im2col + GEMM (bias in the GEMM epilogue);\n"
         "1x1 stride-1 unpadded convolutions are one GEMM. _conv2d_algorithms says which.")
            .c_str());
  m.def("conv2d_forward_reference", &forward<true>, py::arg("input"), py::arg("weight"),
        py::arg("bias") = py::none(), py::arg("stride") = 1, py::arg("padding") = 0,
        py::arg("dilation") = 1, py::arg("groups") = 1,
        (std::string(kForwardDoc) + "\nThe direct seven-loop definition (slow; for tests).").c_str());

  m.def(
      "conv2d_backward",
      [](const py::array& x, const py::array& weight, const py::array& dy,
         const py::object& stride, const py::object& padding, const py::object& dilation,
         std::int64_t groups, const std::vector<bool>& output_mask) {
        const char* op = "conv2d_backward";
        const DType dt = conv_dtype(op, x, weight);
        require_dtype(dy, dt, op, "grad_output");
        require_contiguous(dy, op, "grad_output");
        const Conv2dParams p = conv_params(op, x, weight, stride, padding, dilation, groups);
        require_shape(dy, {p.N, p.K, p.Ho, p.Wo}, op, "grad_output");
        if (output_mask.size() != 3) {
          throw py::value_error(
              "kernn.conv2d_backward: argument 'output_mask' must hold 3 booleans (input, "
              "weight, bias), got " + std::to_string(output_mask.size()));
        }
        return dispatch(dt, [&](auto tag) {
          using T = decltype(tag);
          py::object dx = py::none(), dw = py::none(), db = py::none();
          py::array dx_a, dw_a, db_a;
          if (output_mask[0]) dx_a = empty_array<T>({p.N, p.C, p.H, p.W});
          if (output_mask[1]) dw_a = empty_array<T>({p.K, p.C / p.groups, p.kh, p.kw});
          if (output_mask[2]) db_a = empty_array<T>({p.K});
          {
            py::gil_scoped_release release;
            if (output_mask[0]) {
              conv2d_backward_input<T>(in_ptr<T>(dy), in_ptr<T>(weight), p, out_ptr<T>(dx_a));
            }
            if (output_mask[1]) {
              conv2d_backward_weight<T>(in_ptr<T>(x), in_ptr<T>(dy), p, out_ptr<T>(dw_a));
            }
            if (output_mask[2]) conv2d_backward_bias<T>(in_ptr<T>(dy), p, out_ptr<T>(db_a));
          }
          if (output_mask[0]) dx = dx_a;
          if (output_mask[1]) dw = dw_a;
          if (output_mask[2]) db = db_a;
          return py::make_tuple(dx, dw, db);
        });
      },
      py::arg("input"), py::arg("weight"), py::arg("grad_output"), py::arg("stride") = 1,
      py::arg("padding") = 0, py::arg("dilation") = 1, py::arg("groups") = 1,
      py::arg("output_mask") = std::vector<bool>{true, true, true},
      "Gradients of conv2d -> (grad_input, grad_weight, grad_bias); an entry is None where\n"
      "output_mask (input, weight, bias) is False. grad_input by the direct kernel (AVX-512,\n"
      "stride 1, input rows filling their vectors) or GEMM + col2im; grad_weight by the direct\n"
      "kernel (AVX-512, output rows >= 10, enough output channels per group) or GEMM, summed\n"
      "over the batch in a fixed order; grad_bias by reduction. _conv2d_algorithms says which.");

  m.def(
      "_conv2d_algorithms",
      [](const py::array& x, const py::array& weight, const py::object& stride,
         const py::object& padding, const py::object& dilation, std::int64_t groups) {
        const char* op = "_conv2d_algorithms";
        // The same checks as the conv2d it describes.
        const DType dt = conv_dtype(op, x, weight);
        const Conv2dParams p = conv_params(op, x, weight, stride, padding, dilation, groups);
        const ConvAlgorithms a = dispatch(dt, [&](auto tag) {
          return conv_algorithms<decltype(tag)>(p);
        });
        py::dict d;
        d["forward"] = a.forward;
        d["backward_input"] = a.backward_input;
        d["backward_weight"] = a.backward_weight;
        return d;
      },
      py::arg("input"), py::arg("weight"), py::arg("stride") = 1, py::arg("padding") = 0,
      py::arg("dilation") = 1, py::arg("groups") = 1,
      "Testing hook: which kernel conv2d_forward / conv2d_backward would run for these arrays\n"
      "-> {'forward', 'backward_input', 'backward_weight'}: 'direct', 'im2col' or 'pointwise'.");
  m.def("_set_conv_direct", &set_conv_direct_enabled, py::arg("enabled"),
        "Testing hook: False sends every conv2d through im2col + GEMM (process-wide); returns\n"
        "the previous setting.");
}

}  // namespace kernn::bind
