// The backward of a Linear layer, y = act(x W^T + b), in one call: the ReLU's mask, the bias
// gradient and the two gradient GEMMs (the forward is one gemm with the bias and the ReLU in
// its epilogue).
#pragma once

#include <cstdint>

namespace kernn {

// x: (batch, in), w: (out, in), dy = dL/dy: (batch, out), all row-major and contiguous.
// relu_output: y (batch, out) when act is the ReLU, null for the identity.
//   dz = relu_backward(y, dy)   with the ReLU, written to dz (batch, out); else dz is dy
//   dx = dz W      (batch, in)  into dx unless it is null
//   dw = dz^T x    (out, in)    into dw unless it is null
//   db = column sums of dz (out) into db unless it is null
// Bit for bit what relu_backward, gemm and bias_grad give called one by one.
template <typename T>
void linear_backward(std::int64_t batch, std::int64_t in, std::int64_t out, const T* x,
                     const T* w, const T* relu_output, const T* dy, T* dz, T* dx, T* dw, T* db);

}  // namespace kernn
