// Element-wise activations and the bias gradient (softmax lives in softmax.h).
//
// Every kernel works on contiguous arrays of `n` elements (or `rows` x `cols` for the row-wise
// ones), float and double, and matches torch's formula for the same op. Kernels parallelise over
// elements (bias_grad over fixed blocks of rows) when the work exceeds kParallelGrain and
// the caller is not already inside a parallel region. Each output element is computed by one
// thread in a fixed order, so results do not depend on the thread count.
#pragma once

#include <cstdint>

namespace kernn {

// y = max(x, 0) (NaN propagates, as torch.relu)
template <typename T>
void relu_forward(std::int64_t n, const T* x, T* y);
// dx = x > 0 ? dy : 0   (torch's threshold_backward: the gradient at 0 is 0)
template <typename T>
void relu_backward(std::int64_t n, const T* x, const T* dy, T* dx);

// y = x > 0 ? x : slope * x
template <typename T>
void leaky_relu_forward(std::int64_t n, const T* x, T slope, T* y);
// dx = x > 0 ? dy : slope * dy
template <typename T>
void leaky_relu_backward(std::int64_t n, const T* x, const T* dy, T slope, T* dx);

// y = 1 / (1 + exp(-x)), computed as exp(x) / (1 + exp(x)) for x < 0: no overflow for any x,
// and the limits are exactly 0 and 1 as in torch.
template <typename T>
void sigmoid_forward(std::int64_t n, const T* x, T* y);
// dx = dy * (1 - y) * y   (from the output y)
template <typename T>
void sigmoid_backward(std::int64_t n, const T* y, const T* dy, T* dx);

// y = tanh(x)
template <typename T>
void tanh_forward(std::int64_t n, const T* x, T* y);
// dx = dy * (1 - y * y)   (from the output y)
template <typename T>
void tanh_backward(std::int64_t n, const T* y, const T* dy, T* dx);

// y = x / (1 + |x|)
template <typename T>
void softsign_forward(std::int64_t n, const T* x, T* y);
// dx = dy / (1 + |x|)^2
template <typename T>
void softsign_backward(std::int64_t n, const T* x, const T* dy, T* dx);

// db[j] = sum_r dy[r, j] for dy (rows, cols), accumulated in double. The rows are summed in
// blocks whose size depends only on the shape (at most 64 blocks), partials added in block
// order, so the result is bitwise the same for any number of threads.
template <typename T>
void bias_grad(std::int64_t rows, std::int64_t cols, const T* dy, T* db);

// The backward of a ReLU followed by the bias gradient, in one pass over dy (rows, cols):
// dz = relu_backward(y, dy) and db = bias_grad(dz), bit for bit the two kernels' results.
// y is the ReLU's output (or input: the same sign).
template <typename T>
void relu_backward_bias_grad(std::int64_t rows, std::int64_t cols, const T* y, const T* dy, T* dz,
                             T* db);

}  // namespace kernn
