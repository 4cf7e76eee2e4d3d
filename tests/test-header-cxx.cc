// SPDX-License-Identifier: LGPL-2.1-or-later
// trail.h compiled as C++: the declarations and the logging macros.
#include "trail.h"

int main() {
        trail_logger *lg = trail_get("header.cxx");
        trail_debug(lg, "not %s", "enabled");
        return trail_enabled(lg, TRAIL_DEBUG) ? 1 : 0;
}
