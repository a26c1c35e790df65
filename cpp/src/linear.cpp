// The backward of a Linear layer (see linear.h).
#include "kernn/linear.h"

#include <algorithm>

#include "kernn/elementwise.h"
#include "kernn/gemm.h"

namespace kernn {

template <typename T>
void linear_backward(std::int64_t batch, std::int64_t in, std::int64_t out, const T* x,
                     const T* w, const T* relu_output, const T* dy, T* dz, T* dx, T* dw, T* db) {
  const T* grad = dy;  // dz
  if (relu_output) {
    // The mask and the column sums in one pass over dy.
    if (db) {
      relu_backward_bias_grad(batch, out, relu_output, dy, dz, db);
    } else {
      relu_backward(batch * out, relu_output, dy, dz);
    }
    grad = dz;
  } else if (db) {
    bias_grad(batch, out, dy, db);
  }
  // Leading dimensions of at least 1, as gemm asks, for empty layers.
  const std::int64_t ld_out = std::max<std::int64_t>(out, 1), ld_in = std::max<std::int64_t>(in, 1);
  if (dw) gemm<T>(true, false, out, in, batch, T(1), grad, ld_out, x, ld_in, T(0), dw, ld_in);
  if (dx) gemm<T>(false, false, batch, in, out, T(1), grad, ld_out, w, ld_in, T(0), dx, ld_in);
}

#define KERNN_INSTANTIATE(T)                                                                  \
  template void linear_backward<T>(std::int64_t, std::int64_t, std::int64_t, const T*,       \
                                   const T*, const T*, const T*, T*, T*, T*, T*);

KERNN_INSTANTIATE(float)
KERNN_INSTANTIATE(double)
#undef KERNN_INSTANTIATE

}  // namespace kernn
