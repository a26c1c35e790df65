// kernn._C: the only C++ that knows Python. Each kernel family registers its functions from
// its own bind_<family>.cpp; this file holds the module, the thread controls and the switch of
// the SIMD loop builds.
#include "bind_common.h"
#include "kernn/cpu_features.h"
#include "kernn/parallel.h"

#include <pybind11/stl.h>

#include <pthread.h>

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <string>
#include <thread>
#include <utility>

namespace py = pybind11;

namespace {

// The most threads a kernel may ask for: an absurd count (10**6) makes the next parallel region
// try to start that many threads and hang; oversubscribing a few times the cores stays allowed.
int thread_limit() {
  return std::max(256, 4 * static_cast<int>(std::thread::hardware_concurrency()));
}

// A child forked after a parallel region (multiprocessing's default start method on Linux)
// inherits libgomp's thread pool without its threads: its first parallel region waits for them
// forever. The child runs on one thread, as torch does; kernn.set_num_threads raises it again.
void single_thread_after_fork() { kernn::set_max_threads(1); }

}  // namespace

PYBIND11_MODULE(_C, m) {
  m.doc() = "kernn native kernels (C++17, OpenMP)";

  // OMP_NUM_THREADS is not checked by set_num_threads: bound it here, once, with a warning as
  // for KERNN_ISA (OMP_NUM_THREADS=100000 took a minute per parallel region).
  if (kernn::max_threads() > thread_limit()) {
    std::fprintf(stderr, "kernn: OMP_NUM_THREADS asks for %d threads; using %d (4 per core, at "
                 "least 256)\n", kernn::max_threads(), thread_limit());
    kernn::set_max_threads(thread_limit());
  }
  pthread_atfork(nullptr, nullptr, &single_thread_after_fork);

  m.def(
      "set_num_threads",
      [](int n) {
        if (n < 1) {
          throw py::value_error("kernn.set_num_threads: argument 'n' must be >= 1, got " +
                                std::to_string(n));
        }
        const int limit = thread_limit();
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
        "The number of threads kernels use (OMP_NUM_THREADS at start-up, else all cores;\n"
        "1 in a process forked from one that had imported kernn).");
  m.def("openmp_enabled", &kernn::openmp_enabled, "True when built with OpenMP.");
  m.def("aligned_empty", &kernn::bind::aligned_empty, py::arg("dtype"), py::arg("shape"),
        "A new uninitialised C-contiguous array whose data starts on a 64-byte boundary (as\n"
        "every array a kernel returns); kernn allocates parameters, buffers, optimizer state\n"
        "and the tensors of kernn.zeros / ones / empty through it.");
  m.def(
      "set_simd_loops",
      [](const std::string& isa) {
        using kernn::SimdLevel;
        const std::pair<const char*, SimdLevel> levels[] = {
            {"avx512", SimdLevel::kAvx512}, {"avx2", SimdLevel::kAvx2},
            {"portable", SimdLevel::kPortable}};
        const auto cap = std::find_if(std::begin(levels), std::end(levels),
                                      [&](const auto& l) { return isa == l.first; });
        if (cap == std::end(levels)) {
          throw py::value_error("kernn.set_simd_loops: argument 'isa' is '" + isa +
                                "'; expected 'avx512', 'avx2' or 'portable'");
        }
        kernn::set_simd_loops(cap->second);
        const SimdLevel now = kernn::simd_loops_level();
        return std::find_if(std::begin(levels), std::end(levels),
                            [&](const auto& l) { return l.second == now; })
            ->first;
      },
      py::arg("isa"),
      "Cap the SIMD builds of the element-wise loops (float exp / sigmoid / tanh and the\n"
      "softmax rows: AVX-512 or AVX2; batch norm, optimizer updates, 2x2 max pooling: AVX2) at\n"
      "'avx512' (the default: the best the CPU has), 'avx2' or 'portable'; returns the level now\n"
      "in use, at most what the CPU has. For tests of every build.");

  kernn::bind::register_gemm(m);
  kernn::bind::register_elementwise(m);
  kernn::bind::register_loss(m);
  kernn::bind::register_optim(m);
  kernn::bind::register_pool(m);
  kernn::bind::register_norm(m);
  kernn::bind::register_conv(m);
  kernn::bind::register_embedding(m);
}
