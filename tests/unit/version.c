/* SPDX-License-Identifier: MIT */
/* ferry/version.h: the macros agree with each other and with the library. */
#include <ferry/version.h>

#include <stdio.h>
#include <string.h>

#include "test.h"

FERRY_TEST(string_is_major_minor_patch)
{
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", FERRY_VERSION_MAJOR, FERRY_VERSION_MINOR, FERRY_VERSION_PATCH);
    CHECK_MSG(strcmp(FERRY_VERSION_STRING, want) == 0, "FERRY_VERSION_STRING \"%s\", parts \"%s\"",
              FERRY_VERSION_STRING, want);
}

FERRY_TEST(library_reports_the_headers_version)
{
    const char *v = ferry_version();
    CHECK(v != NULL);
    CHECK_MSG(strcmp(v, FERRY_VERSION_STRING) == 0, "ferry_version() \"%s\", headers \"%s\"", v,
              FERRY_VERSION_STRING);
    CHECK_PTR_EQ(ferry_version(), v); /* a static string */
}

FERRY_TEST(number_orders_versions)
{
    CHECK_EQ(FERRY_VERSION_NUMBER,
             FERRY_VERSION_OF(FERRY_VERSION_MAJOR, FERRY_VERSION_MINOR, FERRY_VERSION_PATCH));
    CHECK(FERRY_VERSION_OF(0, 2, 0) > FERRY_VERSION_OF(0, 1, 9));
    CHECK(FERRY_VERSION_OF(1, 0, 0) > FERRY_VERSION_OF(0, 255, 255));
    CHECK(FERRY_VERSION_OF(0, 2, 1) > FERRY_VERSION_OF(0, 2, 0));
#if FERRY_VERSION_NUMBER < FERRY_VERSION_OF(0, 2, 0)
    CHECK_MSG(0, "version.h exists since 0.2.0");
#endif
}
