/* SPDX-License-Identifier: MIT */
/* A program built against an installed ferry (pkg-config or find_package):
 * prints the version of the library it runs with. */
#include <ferry/chan.h>
#include <ferry/list.h>
#include <ferry/op.h>
#include <ferry/version.h>
#include <ferry/waitlist.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    ferry_tx *tx;
    ferry_rx *rx;
    ferry_chan_config cfg = {.elem_size = sizeof(int), .capacity = 8};
    if (ferry_chan_open(&cfg, &tx, &rx) != 0)
        return 1;
    int in[3] = {1, 2, 3}, out[3];
    if (ferry_send(tx, in, 3) != 3 || ferry_recv(rx, out, 3) != 3 || out[2] != 3)
        return 1;
    ferry_tx_release(tx);
    ferry_rx_release(rx);
    if (strcmp(ferry_version(), FERRY_VERSION_STRING) != 0) {
        printf("headers %s, library %s\n", FERRY_VERSION_STRING, ferry_version());
        return 1;
    }
    printf("installed ferry %s works\n", ferry_version());
    return 0;
}
