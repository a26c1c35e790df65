#include "bind_common.h"

namespace kernn::bind {

void register_optim(py::module_& m) { (void)m; }

}  // namespace kernn::bind
