// Embedding bindings: weight (num_embeddings, dim); indices int64 or int32 of any shape, every
// entry checked to lie in [0, num_embeddings) before a kernel runs.
#include <pybind11/stl.h>

#include <new>
#include <optional>
#include <sstream>
#include <vector>

#include "bind_common.h"
#include "kernn/embedding.h"

namespace kernn::bind {

namespace {

// IndexError naming the first entry of `indices` outside [0, num_embeddings).
template <typename I>
void check_indices(const py::array& indices, std::int64_t num_embeddings, const char* op) {
  const I* p = in_ptr<I>(indices);
  const std::int64_t n = indices.size();
  for (std::int64_t i = 0; i < n; ++i) {
    const auto v = static_cast<std::int64_t>(p[i]);
    if (v < 0 || v >= num_embeddings) {
      std::ostringstream msg;
      msg << "kernn." << op << ": argument 'indices' holds " << v << " at flat position " << i
          << " (indices of shape " << shape_str(indices) << "), outside [0, num_embeddings) for "
          << "num_embeddings = " << num_embeddings;
      throw py::index_error(msg.str());
    }
  }
}

// The index dtype of `indices`, after its contiguity and range checks.
IndexDType checked_indices(const py::array& indices, std::int64_t num_embeddings,
                           const char* op) {
  const IndexDType it = index_dtype(indices, op, "indices");
  require_contiguous(indices, op, "indices");
  dispatch_index(it, [&](auto tag) { check_indices<decltype(tag)>(indices, num_embeddings, op); });
  return it;
}

}  // namespace

void register_embedding(py::module_& m) {
  m.def(
      "embedding_forward",
      [](const py::array& weight, const py::array& indices) {
        const char* op = "embedding";
        const DType dt = float_dtype(weight, op, "weight");
        require_ndim(weight, 2, op, "weight");
        require_contiguous(weight, op, "weight");
        const std::int64_t num_embeddings = weight.shape(0), dim = weight.shape(1);
        const IndexDType it = checked_indices(indices, num_embeddings, op);
        std::vector<py::ssize_t> shape(indices.shape(), indices.shape() + indices.ndim());
        shape.push_back(dim);
        return dispatch(dt, [&](auto tag) {
          using T = decltype(tag);
          py::array out = empty_array<T>(shape);
          dispatch_index(it, [&](auto index_tag) {
            using I = decltype(index_tag);
            const T* w = in_ptr<T>(weight);
            const I* idx = in_ptr<I>(indices);
            T* o = out_ptr<T>(out);
            py::gil_scoped_release release;
            embedding_forward<T, I>(w, dim, idx, indices.size(), o);
          });
          return out;
        });
      },
      py::arg("weight"), py::arg("indices"),
      "Rows of weight (num_embeddings, dim) at indices (int64 or int32, any shape) ->\n"
      "(*indices.shape, dim). An index outside [0, num_embeddings) raises IndexError before\n"
      "anything is read.");

  m.def(
      "embedding_backward",
      [](const py::array& dy, const py::array& indices, std::int64_t num_embeddings,
         std::optional<std::int64_t> padding_idx) {
        const char* op = "embedding_backward";
        const DType dt = float_dtype(dy, op, "grad_output");
        require_contiguous(dy, op, "grad_output");
        if (num_embeddings < 0) {
          throw py::value_error("kernn.embedding_backward: argument 'num_embeddings' must be >= "
                                "0, got " + std::to_string(num_embeddings));
        }
        if (padding_idx && (*padding_idx < 0 || *padding_idx >= num_embeddings)) {
          throw py::value_error("kernn.embedding_backward: argument 'padding_idx' is " +
                                std::to_string(*padding_idx) + "; it must be in [0, " +
                                std::to_string(num_embeddings) + ") or None");
        }
        const IndexDType it = checked_indices(indices, num_embeddings, op);
        if (dy.ndim() != indices.ndim() + 1) {
          throw py::value_error("kernn.embedding_backward: argument 'grad_output' has shape " +
                                shape_str(dy) + "; expected (*indices.shape, dim) with indices "
                                "of shape " + shape_str(indices));
        }
        std::vector<py::ssize_t> expected(indices.shape(), indices.shape() + indices.ndim());
        expected.push_back(dy.shape(dy.ndim() - 1));
        require_shape(dy, expected, op, "grad_output");
        const std::int64_t dim = dy.shape(dy.ndim() - 1);
        return dispatch(dt, [&](auto tag) {
          using T = decltype(tag);
          py::array dweight = empty_array<T>({static_cast<py::ssize_t>(num_embeddings),
                                              static_cast<py::ssize_t>(dim)});
          dispatch_index(it, [&](auto index_tag) {
            using I = decltype(index_tag);
            const T* g = in_ptr<T>(dy);
            const I* idx = in_ptr<I>(indices);
            T* dw = out_ptr<T>(dweight);
            try {
              py::gil_scoped_release release;
              embedding_backward<T, I>(g, idx, indices.size(), num_embeddings, dim,
                                       padding_idx.value_or(-1), dw);
            } catch (const std::bad_alloc&) {
              // The kernel's buckets (num_embeddings + indices.size() int64s), allocated before
              // its parallel region: pybind11 would say only "std::bad_alloc".
              PyErr_SetString(PyExc_MemoryError,
                              ("kernn.embedding_backward: unable to allocate the index buckets "
                               "for num_embeddings = " + std::to_string(num_embeddings) +
                               " and indices of shape " + shape_str(indices)).c_str());
              throw py::error_already_set();
            }
          });
          return dweight;
        });
      },
      py::arg("grad_output"), py::arg("indices"), py::arg("num_embeddings"),
      py::arg("padding_idx") = py::none(),
      "Gradient of embedding -> grad_weight (num_embeddings, dim): the rows of grad_output\n"
      "(*indices.shape, dim) summed into the rows their indices name, in index order (the same\n"
      "bits at any thread count); row padding_idx (None: none) stays 0.");
}

}  // namespace kernn::bind
