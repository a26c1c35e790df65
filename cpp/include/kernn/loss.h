// Loss functions, forward and backward, float and double, with torch's formulas.
//
// Reductions: kNone writes one loss per sample (per row for cross-entropy / NLL, per element for
// the element-wise losses); kSum and kMean write a single value. Sums are accumulated in double
// over fixed-size blocks whose partials are added in block order, so the result does not depend
// on the thread count. `dloss` is the upstream gradient: one value per sample for kNone, a
// single value otherwise.
//
// Class-index targets must already be validated (first_invalid_target returns -1): the kernels
// index logits[i, target[i]] for every non-ignored i. BCE probabilities and targets must lie in
// [0, 1] (first_outside_unit_interval), as torch requires.
#pragma once

#include <cstdint>

namespace kernn {

enum class Reduction { kNone, kMean, kSum };

// The first i with target[i] outside [0, classes) and != ignore_index, or -1 if none.
std::int64_t first_invalid_target(std::int64_t n, std::int64_t classes, const std::int64_t* target,
                                  std::int64_t ignore_index);

// The first i with x[i] outside [0, 1] (NaN included), or -1 if none.
template <typename T>
std::int64_t first_outside_unit_interval(std::int64_t n, const T* x);

// Cross-entropy from logits (n, classes) and class indices (n,), through log-sum-exp, with
// torch's class weights w (`weight`, (classes,), or null for all ones) and label smoothing e:
//   loss_i = (1 - e) * w[t_i] * nll_i(t_i) + (e / classes) * sum_j w_j * nll_i(j),
//   nll_i(j) = m_i + log(sum_k exp(logits[i, k] - m_i)) - logits[i, j],  m_i = max_k
// (the smoothing term weights each class by its own weight, not by w[t_i], as torch). Rows with
// target == ignore_index have loss 0 and do not count; kMean divides the sum by the summed
// weight w[t_i] of the counted rows (their number without weights; 0 / 0 = NaN when every row
// is ignored, as torch). Without weights and smoothing the smoothing sum is never computed.
template <typename T>
void cross_entropy_forward(std::int64_t n, std::int64_t classes, const T* logits,
                           const std::int64_t* target, std::int64_t ignore_index,
                           const T* weight, double label_smoothing, Reduction reduction, T* loss);
// dlogits[i, j] = g_i * (a_i * softmax(logits)[i, j] - (1 - e) * w[t_i] * [j == t_i]
//                        - (e / classes) * w_j),   a_i = (1 - e) * w[t_i] + (e / classes) * sum_k w_k,
// 0 on ignored rows; g_i = dloss[i] (kNone), dloss[0] (kSum), dloss[0] / the divisor of kMean.
template <typename T>
void cross_entropy_backward(std::int64_t n, std::int64_t classes, const T* logits,
                            const std::int64_t* target, std::int64_t ignore_index,
                            const T* weight, double label_smoothing, Reduction reduction,
                            const T* dloss, T* dlogits);

// Cross-entropy against class probabilities `target` (n, classes), torch's soft-label form:
//   loss_i = -sum_j w_j * q[i, j] * log_softmax(logits)[i, j],  q = (1 - e) * target + e / classes
// with w and e as cross_entropy_forward. No row is ignored; kMean divides by n (torch's rule).
template <typename T>
void cross_entropy_soft_forward(std::int64_t n, std::int64_t classes, const T* logits,
                                const T* target, const T* weight, double label_smoothing,
                                Reduction reduction, T* loss);
// dlogits[i, j] = g_i * (softmax[i, j] * sum_k w_k q[i, k] - w_j q[i, j]) and, when dtarget is
// not null, dtarget[i, j] = -g_i * (1 - e) * w_j * log_softmax[i, j]; g_i as kMean divides by n.
template <typename T>
void cross_entropy_soft_backward(std::int64_t n, std::int64_t classes, const T* logits,
                                 const T* target, const T* weight, double label_smoothing,
                                 Reduction reduction, const T* dloss, T* dlogits, T* dtarget);

// Negative log-likelihood of log-probabilities (n, classes): loss_i = -w[t_i] * logp[i, t_i];
// weight, ignore_index and kMean as cross_entropy_forward.
template <typename T>
void nll_loss_forward(std::int64_t n, std::int64_t classes, const T* logp,
                      const std::int64_t* target, std::int64_t ignore_index, const T* weight,
                      Reduction reduction, T* loss);
// dlogp[i, j] = -g_i * w[t_i] where j == t_i, else 0 (g_i as cross_entropy_backward).
template <typename T>
void nll_loss_backward(std::int64_t n, std::int64_t classes, const T* logp,
                       const std::int64_t* target, std::int64_t ignore_index, const T* weight,
                       Reduction reduction, const T* dloss, T* dlogp);

// Binary cross-entropy of probabilities p and targets t (n elements, both in [0, 1]), times
// the element weights w (`weight`, n elements already broadcast, or null for all ones):
//   loss_i = w_i * ((t_i - 1) * max(log1p(-p_i), -100) - t_i * max(log(p_i), -100))  (torch's clamp)
// kMean divides by n.
template <typename T>
void bce_forward(std::int64_t n, const T* p, const T* target, const T* weight,
                 Reduction reduction, T* loss);
// dp_i = g_i * (p_i - t_i) / max((1 - p_i) * p_i, 1e-12f) * w_i, then / n for kMean (torch's
// order and torch's epsilon, the float nearest 1e-12 even for double).
template <typename T>
void bce_backward(std::int64_t n, const T* p, const T* target, const T* weight,
                  Reduction reduction, const T* dloss, T* dp);

// Binary cross-entropy with logits, stable for any x, with element weights w and positive-class
// weights pw (`weight`, `pos_weight`: n elements already broadcast, or null for all ones):
//   loss_i = w_i * ((1 - t_i) * x_i - (1 + (pw_i - 1) * t_i) * log_sigmoid(x_i)),
//   log_sigmoid(x) = min(x, 0) - log1p(exp(-|x|))
template <typename T>
void bce_with_logits_forward(std::int64_t n, const T* x, const T* target, const T* weight,
                             const T* pos_weight, Reduction reduction, T* loss);
// dx_i = g_i * ((pw_i t_i + 1 - t_i) * sigmoid(x_i) - pw_i t_i) * w_i, / n for kMean
// (sigmoid(x_i) - t_i without pos_weight).
template <typename T>
void bce_with_logits_backward(std::int64_t n, const T* x, const T* target, const T* weight,
                              const T* pos_weight, Reduction reduction, const T* dloss, T* dx);

// Mean squared error: loss_i = (x_i - t_i)^2; kMean divides by n.
template <typename T>
void mse_forward(std::int64_t n, const T* x, const T* target, Reduction reduction, T* loss);
// dx_i = norm * (x_i - t_i) * g_i with norm = 2 / n (kMean) or 2 (kSum, kNone).
template <typename T>
void mse_backward(std::int64_t n, const T* x, const T* target, Reduction reduction,
                  const T* dloss, T* dx);

// The losses below (L1, smooth L1, Huber) are functions of d_i = x_i - t_i; their backward
// writes dx_i, the target's gradient being -dx_i. kMean divides by n (forward: the double sum;
// backward: g_i = dloss[0] * (1 / n), as torch's norm).

// L1: loss_i = |d_i|.
template <typename T>
void l1_forward(std::int64_t n, const T* x, const T* target, Reduction reduction, T* loss);
// dx_i = sign(d_i) * g_i   (0 where x_i == t_i, as torch's sgn)
template <typename T>
void l1_backward(std::int64_t n, const T* x, const T* target, Reduction reduction,
                 const T* dloss, T* dx);

// Smooth L1: loss_i = |d_i| < beta ? 0.5 d_i^2 / beta : |d_i| - 0.5 beta, beta >= 0 (beta == 0
// is L1: |d| < 0 never holds).
template <typename T>
void smooth_l1_forward(std::int64_t n, const T* x, const T* target, T beta, Reduction reduction,
                       T* loss);
// dx_i = g_i * (d_i <= -beta ? -1 : d_i >= beta ? 1 : d_i / beta); beta == 0 takes L1's
// gradient (0 at d_i == 0), as torch, which computes beta == 0 as l1_loss.
template <typename T>
void smooth_l1_backward(std::int64_t n, const T* x, const T* target, T beta, Reduction reduction,
                        const T* dloss, T* dx);

// Huber: loss_i = |d_i| < delta ? 0.5 d_i^2 : delta * (|d_i| - 0.5 delta), delta > 0.
template <typename T>
void huber_forward(std::int64_t n, const T* x, const T* target, T delta, Reduction reduction,
                   T* loss);
// dx_i = g_i * (d_i <= -delta ? -delta : d_i >= delta ? delta : d_i)
template <typename T>
void huber_backward(std::int64_t n, const T* x, const T* target, T delta, Reduction reduction,
                    const T* dloss, T* dx);

}  // namespace kernn
