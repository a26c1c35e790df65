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

// The kernels below (ELU ... log-sigmoid) run float through vmath's exp / sigmoid / erf / tanh /
// log1p / expm1, in the SIMD build in use (within a few ulp of the double kernels, which take
// libm's).

// y = x > 0 ? x : alpha * expm1(x)   (expm1: no cancellation near 0)
template <typename T>
void elu_forward(std::int64_t n, const T* x, T alpha, T* y);
// dx = x > 0 ? dy : dy * alpha * exp(x)   (torch's elu_backward: at x == 0 the gradient is
// alpha, the left side; NaN in x passes dy)
template <typename T>
void elu_backward(std::int64_t n, const T* x, const T* dy, T alpha, T* dx);

// GELU. approximate_tanh false: y = x / 2 * (1 + erf(x / sqrt(2)));
// true: y = x / 2 * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 x^3)))
template <typename T>
void gelu_forward(std::int64_t n, const T* x, bool approximate_tanh, T* y);
// false: dx = dy * (Phi(x) + x * phi(x)), Phi(x) = (1 + erf(x / sqrt(2))) / 2 and
//        phi(x) = exp(-x^2 / 2) / sqrt(2 pi);
// true:  dx = dy * ((1 + t) / 2 + x / 2 * (1 - t^2) * sqrt(2 / pi) * (1 + 3 * 0.044715 x^2)),
//        t = tanh(sqrt(2 / pi) * (x + 0.044715 x^3))   (torch's GeluBackward formulas)
template <typename T>
void gelu_backward(std::int64_t n, const T* x, const T* dy, bool approximate_tanh, T* dx);

// y = x * sigmoid(x)   (sigmoid as sigmoid_forward: no overflow; silu(-1e4) = -0 as torch)
template <typename T>
void silu_forward(std::int64_t n, const T* x, T* y);
// dx = dy * s * (1 + x * (1 - s)), s = sigmoid(x), 1 - s taken as sigmoid(-x) (no cancellation)
template <typename T>
void silu_backward(std::int64_t n, const T* x, const T* dy, T* dx);

// y = beta * x > threshold ? x : log1p(exp(beta * x)) / beta, the log taken as
// max(beta x, 0) + log1p(exp(-|beta x|)) (no overflow)
template <typename T>
void softplus_forward(std::int64_t n, const T* x, T beta, T threshold, T* y);
// dx = beta * x > threshold ? dy : dy * sigmoid(beta * x)   (torch's softplus_backward, its
// z / (z + 1) with z = exp(beta * x) taken as the sigmoid: no overflow)
template <typename T>
void softplus_backward(std::int64_t n, const T* x, const T* dy, T beta, T threshold, T* dx);

// y = min(max(x, min_val), max_val), NaN passing through (as torch.clamp); ReLU6 is
// hardtanh(0, 6).
template <typename T>
void hardtanh_forward(std::int64_t n, const T* x, T min_val, T max_val, T* y);
// dx = (x <= min_val || x >= max_val) ? 0 : dy   (torch's hardtanh_backward: 0 at both bounds,
// dy for NaN)
template <typename T>
void hardtanh_backward(std::int64_t n, const T* x, const T* dy, T min_val, T max_val, T* dx);

// y = log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)): exact for large |x| (-1e4 -> -1e4)
template <typename T>
void log_sigmoid_forward(std::int64_t n, const T* x, T* y);
// dx = dy * sigmoid(-x): dy * (x < 0 ? 1 : z) / (1 + z), z = exp(-|x|)   (torch's
// log_sigmoid_backward, whose 1 - z / (1 + z) for x < 0 is 1 / (1 + z))
template <typename T>
void log_sigmoid_backward(std::int64_t n, const T* x, const T* dy, T* dx);

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
