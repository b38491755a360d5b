/* SPDX-License-Identifier: MIT */
/* With FERRY_RTSAN: a malloc inside a ferry real-time section must be
 * reported by clang's RealtimeSanitizer ("Real-time violation: ... malloc"). */
#include <ferry/rt.h>

#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    ferry_rt_enter();
    void *volatile p = malloc(16);
    ferry_rt_exit();
    free(p);
    puts("rtsan_probe: no report");
    return 0;
}
