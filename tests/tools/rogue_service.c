/*
 * A misbehaving service for the integration tests (test_error_codes.py): dials the
 * gateway's endpoint of one service like a daemon does and, for every request,
 *   garbage  answers bytes that are no Response envelope, or
 *   die      exits at once without answering (a daemon dying mid-request).
 * usage: rogue_service URL garbage|die
 */
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An invalid protobuf message: a key with wire type 7, which does not exist. */
static const unsigned char GARBAGE[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
#define RECONNECT_MS 100

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[2], "garbage") != 0 && strcmp(argv[2], "die") != 0)) {
        fprintf(stderr, "usage: rogue_service URL garbage|die\n");
        return 2;
    }
    bool die = strcmp(argv[2], "die") == 0;
    nng_socket s;
    int rv = nng_rep0_open(&s);
    if (rv == 0)
        rv = nng_socket_set_ms(s, NNG_OPT_RECONNMINT, RECONNECT_MS);
    if (rv == 0)
        rv = nng_dial(s, argv[1], NULL, NNG_FLAG_NONBLOCK);
    if (rv != 0) {
        fprintf(stderr, "rogue_service: %s\n", nng_strerror(rv));
        return 1;
    }
    for (;;) {
        nng_msg *msg;
        if ((rv = nng_recvmsg(s, &msg, 0)) != 0) {
            fprintf(stderr, "rogue_service: %s\n", nng_strerror(rv));
            return 1;
        }
        if (die)
            _Exit(0); /* no answer, no clean close: as a crash */
        nng_msg_clear(msg);
        if (nng_msg_append(msg, GARBAGE, sizeof GARBAGE) != 0 || nng_sendmsg(s, msg, 0) != 0)
            nng_msg_free(msg);
    }
}
