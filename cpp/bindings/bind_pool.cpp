// Pooling bindings: max_pool2d, avg_pool2d, adaptive_avg_pool2d, forward and backward.
// Inputs are (N, C, H, W) or (C, H, W); geometry arguments are an int or a pair of ints.
#include <sstream>

#include "bind_common.h"
#include "bind_spatial.h"
#include "kernn/pool.h"

namespace kernn::bind {

namespace {

// Geometry of a pooling call with its output size checked.
struct PoolGeometry {
  Pool2dParams params;
  std::int64_t Ho, Wo;
};

PoolGeometry pool_geometry(const char* op, const Planes& in, const py::object& kernel_size,
                           const py::object& stride, const py::object& padding,
                           const py::object& dilation, bool ceil_mode) {
  const Pair k = pair_arg(kernel_size, op, "kernel_size", 1);
  const Pair s = stride.is_none() ? k : pair_arg(stride, op, "stride", 1);
  const Pair pad = pair_arg(padding, op, "padding", 0);
  const Pair d = pair_arg(dilation, op, "dilation", 1);
  if (pad.h > k.h / 2 || pad.w > k.w / 2) {
    throw py::value_error(std::string("kernn.") + op + ": padding " + pair_str(pad) +
                          " must be at most half of kernel_size " + pair_str(k));
  }
  PoolGeometry g;
  g.params = {k.h, k.w, s.h, s.w, pad.h, pad.w, d.h, d.w};
  g.Ho = pool_output_size(in.H, k.h, s.h, pad.h, d.h, ceil_mode);
  g.Wo = pool_output_size(in.W, k.w, s.w, pad.w, d.w, ceil_mode);
  if (g.Ho < 1 || g.Wo < 1) {
    std::ostringstream msg;
    msg << "kernn." << op << ": computed output size (" << g.Ho << ", " << g.Wo
        << ") is too small for input size (" << in.H << ", " << in.W << ") with kernel_size "
        << pair_str(k) << ", stride " << pair_str(s) << ", padding " << pair_str(pad)
        << ", dilation " << pair_str(d);
    throw py::value_error(msg.str());
  }
  return g;
}

// The input shape a backward call was given: same rank and leading extents as `dy`.
Planes input_planes(const py::array& dy, const std::vector<py::ssize_t>& input_shape,
                    const char* op) {
  bool ok = static_cast<py::ssize_t>(input_shape.size()) == dy.ndim();
  for (std::size_t i = 0; ok && i + 2 < input_shape.size(); ++i) {
    ok = input_shape[i] == dy.shape(static_cast<py::ssize_t>(i));
  }
  // Leading extents equal grad_output's (0 allowed, as the forward allows an empty batch or
  // no channels); the plane must be non-empty.
  for (std::size_t i = input_shape.size() >= 2 ? input_shape.size() - 2 : 0;
       i < input_shape.size(); ++i) {
    ok = ok && input_shape[i] >= 1;
  }
  if (!ok) {
    std::ostringstream msg;
    msg << "kernn." << op << ": argument 'input_shape' (";
    for (std::size_t i = 0; i < input_shape.size(); ++i) msg << (i ? ", " : "") << input_shape[i];
    msg << ") does not match 'grad_output' " << shape_str(dy)
        << " (same rank and leading dimensions, positive spatial sizes)";
    throw py::value_error(msg.str());
  }
  check_allocation(input_shape, sizeof(double), op, "the gradient for 'input_shape'");
  const std::size_t d = input_shape.size();
  return {dy.ndim() == 4 ? dy.shape(0) * dy.shape(1) : dy.shape(0), input_shape[d - 2],
          input_shape[d - 1]};
}

std::int64_t divisor_arg(const py::object& divisor_override, const char* op) {
  if (divisor_override.is_none()) return 0;
  std::int64_t v;
  try {
    v = divisor_override.cast<std::int64_t>();
  } catch (const py::cast_error&) {
    throw py::type_error(std::string("kernn.") + op +
                         ": argument 'divisor_override' must be None or an int that fits in "
                         "int64, got " + py::repr(divisor_override).cast<std::string>());
  }
  if (v == 0) {
    throw py::value_error(std::string("kernn.") + op +
                          ": argument 'divisor_override' must not be zero");
  }
  if (v < 0) {
    throw py::value_error(std::string("kernn.") + op +
                          ": argument 'divisor_override' must be positive, got " +
                          std::to_string(v));
  }
  return v;
}

}  // namespace

void register_pool(py::module_& m) {
  m.def(
      "max_pool2d_forward",
      [](const py::array& x, const py::object& kernel_size, const py::object& stride,
         const py::object& padding, const py::object& dilation, bool ceil_mode) {
        const char* op = "max_pool2d";
        const DType dt = float_dtype(x, op, "input");
        require_contiguous(x, op, "input");
        const Planes in = planes_of(x, op, "input");
        const PoolGeometry g = pool_geometry(op, in, kernel_size, stride, padding, dilation,
                                             ceil_mode);
        check_allocation(with_hw(x, g.Ho, g.Wo), sizeof(std::int64_t), op, "the output");
        return dispatch(dt, [&](auto tag) {
          using T = decltype(tag);
          py::array y = empty_array<T>(with_hw(x, g.Ho, g.Wo));
          py::array idx = empty_array<std::int64_t>(with_hw(x, g.Ho, g.Wo));
          {
            py::gil_scoped_release release;
            max_pool2d_forward<T>(in_ptr<T>(x), in.planes, in.H, in.W, g.params, g.Ho, g.Wo,
                                  out_ptr<T>(y), out_ptr<std::int64_t>(idx));
          }
          return py::make_tuple(y, idx);
        });
      },
      py::arg("input"), py::arg("kernel_size"), py::arg("stride") = py::none(),
      py::arg("padding") = 0, py::arg("dilation") = 1, py::arg("ceil_mode") = false,
      "Max pooling of (N, C, H, W) or (C, H, W) -> (output, indices). indices (int64) hold\n"
      "h*W + w of each maximum within its plane, as torch's return_indices. stride None means\n"
      "kernel_size. Ties keep the first maximum in scan order; NaN propagates.");

  m.def(
      "max_pool2d_backward",
      [](const py::array& dy, const py::array& indices,
         const std::vector<py::ssize_t>& input_shape) {
        const char* op = "max_pool2d_backward";
        const DType dt = float_dtype(dy, op, "grad_output");
        require_contiguous(dy, op, "grad_output");
        planes_of(dy, op, "grad_output");
        require_int64(indices, op, "indices");
        require_contiguous(indices, op, "indices");
        require_same_shape(dy, indices, op, "grad_output", "indices");
        const Planes in = input_planes(dy, input_shape, op);
        const std::int64_t Ho = dy.shape(dy.ndim() - 2), Wo = dy.shape(dy.ndim() - 1);
        return dispatch(dt, [&](auto tag) {
          using T = decltype(tag);
          py::array dx = empty_array<T>(input_shape);
          std::int64_t bad;
          {
            py::gil_scoped_release release;
            bad = max_pool2d_backward<T>(in_ptr<T>(dy), in_ptr<std::int64_t>(indices), in.planes,
                                         in.H, in.W, Ho, Wo, out_ptr<T>(dx));
          }
          if (bad) {
            throw py::index_error("kernn.max_pool2d_backward: argument 'indices' holds " +
                                  std::to_string(bad) + " value(s) outside [0, " +
                                  std::to_string(in.H * in.W) + ") for input planes of size (" +
                                  std::to_string(in.H) + ", " + std::to_string(in.W) + ")");
          }
          return dx;
        });
      },
      py::arg("grad_output"), py::arg("indices"), py::arg("input_shape"),
      "Gradient of max_pool2d: scatters grad_output to the positions in indices (from\n"
      "max_pool2d_forward) of a zero array of input_shape. Out-of-range indices raise IndexError\n"
      "and are never written.");

  m.def(
      "avg_pool2d_forward",
      [](const py::array& x, const py::object& kernel_size, const py::object& stride,
         const py::object& padding, bool ceil_mode, bool count_include_pad,
         const py::object& divisor_override) {
        const char* op = "avg_pool2d";
        const DType dt = float_dtype(x, op, "input");
        require_contiguous(x, op, "input");
        const Planes in = planes_of(x, op, "input");
        const PoolGeometry g = pool_geometry(op, in, kernel_size, stride, padding, py::int_(1),
                                             ceil_mode);
        const std::int64_t divisor = divisor_arg(divisor_override, op);
        check_allocation(with_hw(x, g.Ho, g.Wo), itemsize(dt), op, "the output");
        return dispatch(dt, [&](auto tag) {
          using T = decltype(tag);
          py::array y = empty_array<T>(with_hw(x, g.Ho, g.Wo));
          {
            py::gil_scoped_release release;
            avg_pool2d_forward<T>(in_ptr<T>(x), in.planes, in.H, in.W, g.params, g.Ho, g.Wo,
                                  count_include_pad, divisor, out_ptr<T>(y));
          }
          return y;
        });
      },
      py::arg("input"), py::arg("kernel_size"), py::arg("stride") = py::none(),
      py::arg("padding") = 0, py::arg("ceil_mode") = false, py::arg("count_include_pad") = true,
      py::arg("divisor_override") = py::none(),
      "Average pooling of (N, C, H, W) or (C, H, W), torch's divisor rules (count_include_pad,\n"
      "divisor_override). stride None means kernel_size.");

  m.def(
      "avg_pool2d_backward",
      [](const py::array& dy, const std::vector<py::ssize_t>& input_shape,
         const py::object& kernel_size, const py::object& stride, const py::object& padding,
         bool ceil_mode, bool count_include_pad, const py::object& divisor_override) {
        const char* op = "avg_pool2d_backward";
        const DType dt = float_dtype(dy, op, "grad_output");
        require_contiguous(dy, op, "grad_output");
        planes_of(dy, op, "grad_output");
        const Planes in = input_planes(dy, input_shape, op);
        const PoolGeometry g = pool_geometry(op, in, kernel_size, stride, padding, py::int_(1),
                                             ceil_mode);
        std::vector<py::ssize_t> out_shape(input_shape);
        out_shape[out_shape.size() - 2] = g.Ho;
        out_shape[out_shape.size() - 1] = g.Wo;
        require_shape(dy, out_shape, op, "grad_output");
        const std::int64_t divisor = divisor_arg(divisor_override, op);
        return dispatch(dt, [&](auto tag) {
          using T = decltype(tag);
          py::array dx = empty_array<T>(input_shape);
          {
            py::gil_scoped_release release;
            avg_pool2d_backward<T>(in_ptr<T>(dy), in.planes, in.H, in.W, g.params, g.Ho, g.Wo,
                                   count_include_pad, divisor, out_ptr<T>(dx));
          }
          return dx;
        });
      },
      py::arg("grad_output"), py::arg("input_shape"), py::arg("kernel_size"),
      py::arg("stride") = py::none(), py::arg("padding") = 0, py::arg("ceil_mode") = false,
      py::arg("count_include_pad") = true, py::arg("divisor_override") = py::none(),
      "Gradient of avg_pool2d for an input of input_shape (same geometry arguments).");

  m.def(
      "adaptive_avg_pool2d_forward",
      [](const py::array& x, const py::object& output_size) {
        const char* op = "adaptive_avg_pool2d";
        const DType dt = float_dtype(x, op, "input");
        require_contiguous(x, op, "input");
        const Planes in = planes_of(x, op, "input");
        const Pair out = pair_arg(output_size, op, "output_size", 1);
        check_allocation(with_hw(x, out.h, out.w), itemsize(dt), op, "the output");
        return dispatch(dt, [&](auto tag) {
          using T = decltype(tag);
          py::array y = empty_array<T>(with_hw(x, out.h, out.w));
          {
            py::gil_scoped_release release;
            adaptive_avg_pool2d_forward<T>(in_ptr<T>(x), in.planes, in.H, in.W, out.h, out.w,
                                           out_ptr<T>(y));
          }
          return y;
        });
      },
      py::arg("input"), py::arg("output_size"),
      "Adaptive average pooling to output_size (an int or (Ho, Wo)): cell o of an axis of\n"
      "length n averages [floor(o*n/out), ceil((o+1)*n/out)).");

  m.def(
      "adaptive_avg_pool2d_backward",
      [](const py::array& dy, const std::vector<py::ssize_t>& input_shape) {
        const char* op = "adaptive_avg_pool2d_backward";
        const DType dt = float_dtype(dy, op, "grad_output");
        require_contiguous(dy, op, "grad_output");
        planes_of(dy, op, "grad_output");
        const Planes in = input_planes(dy, input_shape, op);
        const std::int64_t Ho = dy.shape(dy.ndim() - 2), Wo = dy.shape(dy.ndim() - 1);
        return dispatch(dt, [&](auto tag) {
          using T = decltype(tag);
          py::array dx = empty_array<T>(input_shape);
          {
            py::gil_scoped_release release;
            adaptive_avg_pool2d_backward<T>(in_ptr<T>(dy), in.planes, in.H, in.W, Ho, Wo,
                                            out_ptr<T>(dx));
          }
          return dx;
        });
      },
      py::arg("grad_output"), py::arg("input_shape"),
      "Gradient of adaptive_avg_pool2d for an input of input_shape.");
}

}  // namespace kernn::bind
