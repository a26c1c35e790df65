#include "bind_common.h"

namespace kernn::bind {

void register_gemm(py::module_& m) { (void)m; }

}  // namespace kernn::bind
