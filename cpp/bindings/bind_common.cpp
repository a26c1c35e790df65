#include "bind_common.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <sstream>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace kernn::bind {

namespace {

std::string prefix(const char* op, const char* arg) {
  return std::string("kernn.") + op + ": argument '" + arg + "'";
}

std::string dtype_name(const py::array& a) { return py::str(a.dtype()).cast<std::string>(); }

// Equality, not identity: numpy usually shares one descriptor per builtin dtype, but arrays that
// come back from pickle / copy.deepcopy carry their own equal descriptor object.
bool has_dtype(const py::array& a, const py::dtype& d) {
  const py::dtype actual = a.dtype();
  return actual.is(d) || actual.equal(d);
}

}  // namespace

py::array aligned_empty(const py::dtype& dtype, const std::vector<py::ssize_t>& shape) {
  constexpr std::size_t kAlignment = 64;
  const auto what = [&] {
    std::ostringstream s;
    s << "an array of shape (";
    for (std::size_t i = 0; i < shape.size(); ++i) s << (i ? ", " : "") << shape[i];
    s << (shape.size() == 1 ? ",)" : ")") << " and dtype " << py::str(dtype).cast<std::string>();
    return s.str();
  };
  // Uninitialised memory is garbage to an array of Python objects (numpy fills those with
  // None): such dtypes are refused.
  if (dtype.attr("hasobject").cast<bool>()) {
    throw py::type_error("kernn.aligned_empty: " + what() +
                         " would hold Python objects; only dtypes of plain data");
  }
  std::size_t bytes = static_cast<std::size_t>(dtype.itemsize());
  for (const py::ssize_t extent : shape) {
    if (extent < 0) throw py::value_error("kernn.aligned_empty: negative extent in " + what());
    if (__builtin_mul_overflow(bytes, static_cast<std::size_t>(extent), &bytes) ||
        bytes > SIZE_MAX / 2) {
      throw py::value_error("kernn.aligned_empty: " + what() + " is too big");
    }
  }
  // malloc'd with room to move the start to the next boundary, not std::aligned_alloc:
  // glibc's memalign pads each request, so an output of the size just freed did not fit the
  // freed block, and every call of a kernel got fresh memory further up the heap, cold in the
  // caches (a 100 x 500 relu 6.9 -> 8.7 us). malloc of the same size reuses the block.
  std::unique_ptr<void, decltype(&std::free)> memory(std::malloc(bytes + kAlignment), &std::free);
  if (!memory) {
    PyErr_SetString(PyExc_MemoryError, ("kernn.aligned_empty: unable to allocate " +
                                        std::to_string(bytes) + " bytes for " + what())
                                           .c_str());
    throw py::error_already_set();
  }
  const auto address = reinterpret_cast<std::uintptr_t>(memory.get());
  void* const data = reinterpret_cast<void*>((address + kAlignment - 1) / kAlignment * kAlignment);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  // As numpy does for its own arrays from 4 MiB: ask for transparent huge pages, so that a
  // large output is faulted in 2 MiB at a time, not 4 KiB (without it a 64 x 128 x 32 x 32
  // convolution output, allocated and faulted in anew by every call, took 1.12-1.17x as long).
  if (bytes >= (std::size_t{1} << 22)) {
    constexpr std::uintptr_t kPage = 4096;
    const std::uintptr_t first_page = (address + kPage - 1) / kPage * kPage;
    madvise(reinterpret_cast<void*>(first_page), bytes + kAlignment - (first_page - address),
            MADV_HUGEPAGE);
  }
#endif
  // The capsule owns the memory from here (the pointer malloc gave, which free takes): numpy
  // frees it with the array's last reference.
  py::capsule owner(memory.get(), [](void* p) { std::free(p); });
  memory.release();
  return py::array(dtype, shape, data, owner);
}

std::string shape_str(const py::array& a) {
  std::ostringstream s;
  s << "(";
  for (py::ssize_t i = 0; i < a.ndim(); ++i) {
    if (i) s << ", ";
    s << a.shape(i);
  }
  if (a.ndim() == 1) s << ",";
  s << ")";
  return s.str();
}

DType float_dtype(const py::array& a, const char* op, const char* arg) {
  if (has_dtype(a, py::dtype::of<float>())) return DType::Float32;
  if (has_dtype(a, py::dtype::of<double>())) return DType::Float64;
  throw py::type_error(prefix(op, arg) + " has dtype " + dtype_name(a) +
                       "; expected float32 or float64");
}

void require_dtype(const py::array& a, DType expected, const char* op, const char* arg) {
  const bool ok = expected == DType::Float32 ? has_dtype(a, py::dtype::of<float>())
                                             : has_dtype(a, py::dtype::of<double>());
  if (!ok) {
    throw py::type_error(prefix(op, arg) + " has dtype " + dtype_name(a) + "; expected " +
                         (expected == DType::Float32 ? "float32" : "float64") +
                         " like the other operands");
  }
}

void require_int64(const py::array& a, const char* op, const char* arg) {
  if (!has_dtype(a, py::dtype::of<std::int64_t>())) {
    throw py::type_error(prefix(op, arg) + " has dtype " + dtype_name(a) + "; expected int64");
  }
}

IndexDType index_dtype(const py::array& a, const char* op, const char* arg) {
  if (has_dtype(a, py::dtype::of<std::int64_t>())) return IndexDType::Int64;
  if (has_dtype(a, py::dtype::of<std::int32_t>())) return IndexDType::Int32;
  throw py::type_error(prefix(op, arg) + " has dtype " + dtype_name(a) +
                       "; expected int64 or int32");
}

void require_contiguous(const py::array& a, const char* op, const char* arg) {
  if (!(a.flags() & py::array::c_style)) {
    throw py::value_error(prefix(op, arg) + " with shape " + shape_str(a) +
                          " is not C-contiguous");
  }
}

void require_writeable(const py::array& a, const char* op, const char* arg) {
  require_contiguous(a, op, arg);
  if (!a.writeable()) {
    throw py::value_error(prefix(op, arg) + " with shape " + shape_str(a) +
                          " is read-only; it is written in place");
  }
}

void require_ndim(const py::array& a, int ndim, const char* op, const char* arg) {
  if (a.ndim() != ndim) {
    throw py::value_error(prefix(op, arg) + " has shape " + shape_str(a) + "; expected " +
                          std::to_string(ndim) + " dimensions");
  }
}

void require_shape(const py::array& a, const std::vector<py::ssize_t>& shape, const char* op,
                   const char* arg) {
  bool ok = a.ndim() == static_cast<py::ssize_t>(shape.size());
  for (std::size_t i = 0; ok && i < shape.size(); ++i) {
    ok = shape[i] < 0 || a.shape(static_cast<py::ssize_t>(i)) == shape[i];
  }
  if (!ok) {
    std::ostringstream want;
    want << "(";
    for (std::size_t i = 0; i < shape.size(); ++i) {
      if (i) want << ", ";
      if (shape[i] < 0) {
        want << "*";
      } else {
        want << shape[i];
      }
    }
    if (shape.size() == 1) want << ",";
    want << ")";
    throw py::value_error(prefix(op, arg) + " has shape " + shape_str(a) + "; expected " +
                          want.str());
  }
}

void require_same_shape(const py::array& a, const py::array& b, const char* op, const char* arg_a,
                        const char* arg_b) {
  bool ok = a.ndim() == b.ndim();
  for (py::ssize_t i = 0; ok && i < a.ndim(); ++i) ok = a.shape(i) == b.shape(i);
  if (!ok) {
    throw py::value_error(std::string("kernn.") + op + ": arguments '" + arg_a + "' " +
                          shape_str(a) + " and '" + arg_b + "' " + shape_str(b) +
                          " must have the same shape");
  }
}

void require_apart(const char* op, const std::vector<Operand>& written,
                   const std::vector<Operand>& read) {
  // The byte range [begin, end) of every non-empty operand, sorted by begin. Sweeping them in
  // that order, an operand overlaps an earlier one exactly when it begins before the largest
  // end so far; only overlaps involving a written operand count (two read operands may
  // share memory), so the sweep keeps the largest end of any operand and of written ones.
  // Addresses as integers: `<` between pointers into different arrays is unspecified.
  struct Range {
    std::uintptr_t begin;
    std::uintptr_t end;
    const Operand* operand;
    bool written;
    std::size_t order;  // position in written, then read: the message names them in this order
  };
  std::vector<Range> ranges;
  ranges.reserve(written.size() + read.size());
  for (const auto* list : {&written, &read}) {
    for (const Operand& o : *list) {
      if (!o.array || o.array->nbytes() == 0) continue;
      const auto begin = reinterpret_cast<std::uintptr_t>(o.array->data());
      ranges.push_back({begin, begin + static_cast<std::uintptr_t>(o.array->nbytes()), &o,
                        list == &written, ranges.size()});
    }
  }
  std::sort(ranges.begin(), ranges.end(),
            [](const Range& a, const Range& b) { return a.begin < b.begin; });
  const Range* furthest = nullptr;          // the largest end so far
  const Range* furthest_written = nullptr;  // the largest end of a written operand so far
  for (const Range& r : ranges) {
    const Range* other = r.written ? furthest : furthest_written;
    if (other && r.begin < other->end) {
      const bool r_first = r.written && (!other->written || r.order < other->order);
      const Range& w = r_first ? r : *other;
      const Range& o = r_first ? *other : r;
      throw py::value_error(prefix(op, w.operand->name.c_str()) + " " +
                            shape_str(*w.operand->array) + " shares memory with argument '" +
                            o.operand->name + "' " + shape_str(*o.operand->array) +
                            "; an array updated in place must be its own");
    }
    if (!furthest || r.end > furthest->end) furthest = &r;
    if (r.written && (!furthest_written || r.end > furthest_written->end)) furthest_written = &r;
  }
}

}  // namespace kernn::bind
