/* SPDX-License-Identifier: MIT */
/* Out-of-line parts of ferry/waitlist.h: misuse reports. */
#include <ferry/waitlist.h>

void ferry__waitlist_misuse(const char *what, const ferry_waitlist *wl, const ferry_waiter *w)
{
    if (wl && w)
        ferry__die("waitlist '%s' (%p) %s (waiter %p)", ferry_waitlist_name(wl), (const void *)wl, what,
                   (const void *)w);
    if (wl)
        ferry__die("waitlist '%s' (%p) %s (%zu linked)", ferry_waitlist_name(wl), (const void *)wl, what,
                   wl->len);
    ferry__die("waitlist %s (waiter %p)", what, (const void *)w);
}
