#include "bind_common.h"

namespace kernn::bind {

void register_elementwise(py::module_& m) { (void)m; }

}  // namespace kernn::bind
