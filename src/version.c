/* SPDX-License-Identifier: MIT */
/* ferry_version: the library's own version, fixed when it is built. */
#include <ferry/version.h>

const char *ferry_version(void)
{
    return FERRY_VERSION_STRING;
}
