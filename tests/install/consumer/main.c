/* A program built against an installed ferry (pkg-config or find_package). */
#include <ferry/chan.h>
#include <ferry/list.h>
#include <ferry/op.h>
#include <ferry/waitlist.h>
#include <stdio.h>

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
    puts("installed ferry works");
    return 0;
}
