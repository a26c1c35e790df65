// kernn._C: the only C++ that knows Python. Each kernel family registers its functions from
// its own bind_<family>.cpp; this file holds the module, the thread controls and the switch of
// the SIMD loop builds.
#include "bind_common.h"
#include "kernn/cpu_features.h"
#include "kernn/parallel.h"

#include <algorithm>
#include <thread>

namespace py = pybind11;

PYBIND11_MODULE(_C, m) {
  m.doc() = "kernn native kernels (C++17, OpenMP)";

  m.def(
      "set_num_threads",
      [](int n) {
        if (n < 1) {
          throw py::value_error("kernn.set_num_threads: argument 'n' must be >= 1, got " +
                                std::to_string(n));
        }
        // An absurd count (10**6) makes the next parallel region try to start that many
        // threads and hang; oversubscribing a few times the cores stays allowed.
        const int limit =
            std::max(256, 4 * static_cast<int>(std::thread::hardware_concurrency()));
        if (n > limit) {
          throw py::value_error("kernn.set_num_threads: argument 'n' is " + std::to_string(n) +
                                "; at most " + std::to_string(limit) +
                                " threads (4 per core, at least 256)");
        }
        kernn::set_max_threads(n);
      },
      py::arg("n"),
      "Set the number of OpenMP threads kernels use (like torch.set_num_threads); n in\n"
      "[1, max(256, 4 * cores)].");
  m.def("get_num_threads", &kernn::max_threads,
        "The number of threads kernels use (OMP_NUM_THREADS at start-up, else all cores).");
  m.def("openmp_enabled", &kernn::openmp_enabled, "True when built with OpenMP.");
  m.def(
      "set_simd_loops",
      [](bool enabled) {
        kernn::set_simd_loops(enabled);
        return kernn::simd_loops_avx2();
      },
      py::arg("enabled"),
      "Use (True) or not (False) the AVX2 builds of the element-wise loops (float exp / sigmoid /\n"
      "tanh, batch norm, optimizer updates, 2x2 max pooling); returns whether they are now in use\n"
      "(False on a CPU without AVX2 + FMA). For tests of the portable build.");

  kernn::bind::register_gemm(m);
  kernn::bind::register_elementwise(m);
  kernn::bind::register_loss(m);
  kernn::bind::register_optim(m);
  kernn::bind::register_pool(m);
  kernn::bind::register_norm(m);
  kernn::bind::register_conv(m);
}
