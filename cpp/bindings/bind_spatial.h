// Argument helpers shared by the spatial bindings (conv, pooling): (h, w) pairs given as one
// int or two, and the "(N, C, H, W) or (C, H, W)" input convention.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <limits>
#include <sstream>
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

// Largest kernel_size, stride, padding, dilation or output_size entry accepted. Bounding them
// keeps every output-size formula (H + 2*p - d*(k-1) - 1, window areas) far inside int64;
// larger values would overflow into a silently wrong geometry.
constexpr std::int64_t kMaxGeometry = std::numeric_limits<std::int32_t>::max();

// `value` is an int or a sequence of one or two ints (the Python layer passes tuples).
// ValueError naming op and argument unless every entry lies in [min_value, kMaxGeometry].
inline Pair pair_arg(const py::object& value, const char* op, const char* arg,
                     std::int64_t min_value) {
  std::vector<std::int64_t> v;
  if (py::isinstance<py::int_>(value)) {
    try {
      v.push_back(value.cast<std::int64_t>());
    } catch (const py::cast_error&) {  // does not fit in int64
      throw py::value_error(std::string("kernn.") + op + ": argument '" + arg + "' is " +
                            py::repr(value).cast<std::string>() + "; every entry must be in [" +
                            std::to_string(min_value) + ", " + std::to_string(kMaxGeometry) +
                            "]");
    }
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
  if (p.h < min_value || p.w < min_value || p.h > kMaxGeometry || p.w > kMaxGeometry) {
    throw py::value_error(std::string("kernn.") + op + ": argument '" + arg + "' is " +
                          pair_str(p) + "; every entry must be in [" + std::to_string(min_value) +
                          ", " + std::to_string(kMaxGeometry) + "]");
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

inline std::size_t itemsize(DType dt) { return dt == DType::Float32 ? sizeof(float) : sizeof(double); }

// ValueError naming op and `what` unless an array of `shape` and `itemsize`-byte elements can
// exist: its element count must not overflow and its bytes must not exceed this machine's
// physical memory. Without the check an absurd geometry (a huge padding or output_size, an
// input_shape of 2**40) ends in numpy's unnamed "array is too big", a MemoryError, or an
// overcommitted allocation that the kernel then fills until the OOM killer ends the process.
inline void check_allocation(const std::vector<py::ssize_t>& shape, std::size_t itemsize,
                             const char* op, const char* what) {
  std::uint64_t bytes = itemsize;
  bool overflow = false;
  for (auto e : shape) {
    const auto extent = static_cast<std::uint64_t>(e);
    if (e < 0 || (extent != 0 && bytes > std::numeric_limits<std::int64_t>::max() / extent)) {
      overflow = true;
      break;
    }
    bytes *= extent;
  }
  const long pages = sysconf(_SC_PHYS_PAGES), page_size = sysconf(_SC_PAGE_SIZE);
  const std::uint64_t memory = pages > 0 && page_size > 0
                                   ? static_cast<std::uint64_t>(pages) *
                                         static_cast<std::uint64_t>(page_size)
                                   : std::numeric_limits<std::uint64_t>::max();
  if (overflow || bytes > memory) {
    std::ostringstream msg;
    msg << "kernn." << op << ": " << what << " of shape (";
    for (std::size_t i = 0; i < shape.size(); ++i) msg << (i ? ", " : "") << shape[i];
    msg << ") would need ";
    if (overflow) {
      msg << "more bytes than int64 can count";
    } else {
      msg << bytes << " bytes, more than this machine's " << memory << " bytes of memory";
    }
    throw py::value_error(msg.str());
  }
}

// The shape of `x` with its last two extents replaced.
inline std::vector<py::ssize_t> with_hw(const py::array& x, std::int64_t h, std::int64_t w) {
  std::vector<py::ssize_t> shape(x.shape(), x.shape() + x.ndim());
  shape[shape.size() - 2] = static_cast<py::ssize_t>(h);
  shape[shape.size() - 1] = static_cast<py::ssize_t>(w);
  return shape;
}

}  // namespace kernn::bind
