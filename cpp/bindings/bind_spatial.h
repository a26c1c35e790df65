// Argument helpers shared by the spatial bindings (conv, pooling): (h, w) pairs given as one
// int or two, and the "(N, C, H, W) or (C, H, W)" input convention.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <pybind11/stl.h>

#include "bind_common.h"

namespace kernn::bind {

struct Pair {
  std::int64_t h, w;
};

inline std::string pair_str(const Pair& p) {
  return "(" + std::to_string(p.h) + ", " + std::to_string(p.w) + ")";
}

// `value` is an int or a sequence of one or two ints (the Python layer passes tuples).
// ValueError naming op and argument unless every entry is >= min_value.
inline Pair pair_arg(const py::object& value, const char* op, const char* arg,
                     std::int64_t min_value) {
  std::vector<std::int64_t> v;
  if (py::isinstance<py::int_>(value)) {
    v.push_back(value.cast<std::int64_t>());
  } else {
    try {
      v = value.cast<std::vector<std::int64_t>>();
    } catch (const py::cast_error&) {
      throw py::type_error(std::string("kernn.") + op + ": argument '" + arg +
                           "' must be an int or a pair of ints, got " +
                           py::repr(value).cast<std::string>());
    }
  }
  if (v.size() != 1 && v.size() != 2) {
    throw py::value_error(std::string("kernn.") + op + ": argument '" + arg +
                          "' must be an int or a pair of ints, got " +
                          py::repr(value).cast<std::string>());
  }
  const Pair p{v[0], v.size() == 2 ? v[1] : v[0]};
  if (p.h < min_value || p.w < min_value) {
    throw py::value_error(std::string("kernn.") + op + ": argument '" + arg + "' is " +
                          pair_str(p) + "; every entry must be >= " + std::to_string(min_value));
  }
  return p;
}

// An input of (N, C, H, W) or (C, H, W): the number of (H, W) planes and the plane size.
struct Planes {
  std::int64_t planes, H, W;
};

inline Planes planes_of(const py::array& x, const char* op, const char* arg) {
  if (x.ndim() != 3 && x.ndim() != 4) {
    throw py::value_error(std::string("kernn.") + op + ": argument '" + arg + "' has shape " +
                          shape_str(x) + "; expected 3 (C, H, W) or 4 (N, C, H, W) dimensions");
  }
  const int d = static_cast<int>(x.ndim());
  if (x.shape(d - 2) < 1 || x.shape(d - 1) < 1) {
    throw py::value_error(std::string("kernn.") + op + ": argument '" + arg + "' has shape " +
                          shape_str(x) + "; its spatial size must be non-empty");
  }
  std::int64_t planes = 1;
  for (int i = 0; i < d - 2; ++i) planes *= x.shape(i);
  return {planes, x.shape(d - 2), x.shape(d - 1)};
}

// The shape of `x` with its last two extents replaced.
inline std::vector<py::ssize_t> with_hw(const py::array& x, std::int64_t h, std::int64_t w) {
  std::vector<py::ssize_t> shape(x.shape(), x.shape() + x.ndim());
  shape[shape.size() - 2] = static_cast<py::ssize_t>(h);
  shape[shape.size() - 1] = static_cast<py::ssize_t>(w);
  return shape;
}

}  // namespace kernn::bind
