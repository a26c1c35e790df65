// Argument checking shared by every binding of kernn._C.
//
// A binding checks dtype, rank, shape, contiguity and writeability of every array before it
// touches a raw pointer, then releases the GIL and calls the kernel. Arrays are taken as plain
// py::array (never py::array_t<T, forcecast>), so nothing is silently converted: an in-place
// output that had the wrong dtype or layout would otherwise be written into a temporary copy.
// Errors name the op, the argument and the shapes, e.g.
//   kernn.gemm: argument 'b' has shape (5, 3); expected (4, 3)
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <vector>

namespace kernn::bind {

namespace py = pybind11;

enum class DType { Float32, Float64 };

enum class IndexDType { Int64, Int32 };

// "(3, 4)"
std::string shape_str(const py::array& a);

// The floating dtype of `a`; TypeError naming op, argument and dtype for anything else.
DType float_dtype(const py::array& a, const char* op, const char* arg);

// TypeError unless `a` has dtype `expected` (all float operands of one call share a dtype).
void require_dtype(const py::array& a, DType expected, const char* op, const char* arg);

// TypeError unless `a` holds int64 (class-index targets).
void require_int64(const py::array& a, const char* op, const char* arg);

// The integer dtype of index array `a` (embedding indices); TypeError naming op, argument and
// dtype for anything but int64 and int32.
IndexDType index_dtype(const py::array& a, const char* op, const char* arg);

// ValueError unless `a` is C-contiguous.
void require_contiguous(const py::array& a, const char* op, const char* arg);

// ValueError unless `a` is C-contiguous and writeable (outputs and in-place state).
void require_writeable(const py::array& a, const char* op, const char* arg);

// ValueError unless `a` has `ndim` dimensions.
void require_ndim(const py::array& a, int ndim, const char* op, const char* arg);

// ValueError unless `a` has exactly `shape` (an entry of -1 matches any extent).
void require_shape(const py::array& a, const std::vector<py::ssize_t>& shape, const char* op,
                   const char* arg);

// ValueError unless `a` and `b` have the same shape.
void require_same_shape(const py::array& a, const py::array& b, const char* op, const char* arg_a,
                        const char* arg_b);

// A named argument of a kernel ("c", or "exp_avgs[2]" for an entry of a list argument); array
// is null for an optional argument given as None.
struct Operand {
  std::string name;
  const py::array* array;
};

// Each of `written` (updated in place by the kernel) must share memory with no other argument,
// written or `read`: it would read values the same pass has already overwritten. ValueError
// naming both arguments otherwise. The arrays must be C-contiguous (byte ranges tell aliasing).
// O(n log n) in the number of operands: an optimizer step checks every array of a whole
// parameter group.
void require_apart(const char* op, const std::vector<Operand>& written,
                   const std::vector<Operand>& read);

// Runs f(T{}) with T = float or double.
template <typename F>
decltype(auto) dispatch(DType dtype, F&& f) {
  if (dtype == DType::Float32) return f(float{});
  return f(double{});
}

// Runs f(I{}) with I = std::int64_t or std::int32_t.
template <typename F>
decltype(auto) dispatch_index(IndexDType dtype, F&& f) {
  if (dtype == IndexDType::Int64) return f(std::int64_t{});
  return f(std::int32_t{});
}

template <typename T>
const T* in_ptr(const py::array& a) {
  return static_cast<const T*>(a.data());
}

template <typename T>
T* out_ptr(py::array& a) {
  return static_cast<T*>(a.mutable_data());
}

// A new C-contiguous array of `dtype` (uninitialised) whose data starts on a 64-byte boundary:
// a cache line and an AVX-512 vector, so the kernels' full-width loads and stores never
// straddle two lines. (numpy's allocator aligns to 16 bytes: the batch-1 784 x 500 layer,
// reading its weights from L2 with 64-byte loads, took 1.12-1.18x as long at 2 threads.) The
// memory is freed with the last array or view using it. TypeError for a dtype holding Python
// objects, ValueError for a negative extent or a size that overflows, MemoryError when the
// allocation fails.
py::array aligned_empty(const py::dtype& dtype, const std::vector<py::ssize_t>& shape);

// aligned_empty of dtype T: every array a kernel returns.
template <typename T>
py::array empty_array(const std::vector<py::ssize_t>& shape) {
  return aligned_empty(py::dtype::of<T>(), shape);
}

// Module sections, one per kernel family (cpp/bindings/bind_<family>.cpp).
void register_gemm(py::module_& m);
void register_elementwise(py::module_& m);
void register_loss(py::module_& m);
void register_optim(py::module_& m);
void register_pool(py::module_& m);
void register_norm(py::module_& m);
void register_conv(py::module_& m);
void register_embedding(py::module_& m);

}  // namespace kernn::bind
