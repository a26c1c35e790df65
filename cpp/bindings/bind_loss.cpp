#include "bind_common.h"

namespace kernn::bind {

void register_loss(py::module_& m) { (void)m; }

}  // namespace kernn::bind
