/*
 * libtripdesk-bench-nodelay.so: an LD_PRELOAD shim for diagnosis only. It sets
 * TCP_NODELAY on every TCP connection the process accepts, which is what civetweb's
 * "tcp_nodelay" option does, so run_bench.py can show what that option would change
 * for the unmodified gateway binary. Unix-domain (nng ipc) sockets are left alone.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <sys/socket.h>

static void set_nodelay(int fd)
{
    int domain = 0;
    socklen_t len = sizeof domain;
    if (fd >= 0 && getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 &&
        (domain == AF_INET || domain == AF_INET6)) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
}

int accept(int fd, struct sockaddr *addr, socklen_t *addrlen)
{
    static int (*real)(int, struct sockaddr *, socklen_t *);
    if (real == NULL)
        real = (int (*)(int, struct sockaddr *, socklen_t *))dlsym(RTLD_NEXT, "accept");
    int c = real(fd, addr, addrlen);
    set_nodelay(c);
    return c;
}

int accept4(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags)
{
    static int (*real)(int, struct sockaddr *, socklen_t *, int);
    if (real == NULL)
        real = (int (*)(int, struct sockaddr *, socklen_t *, int))dlsym(RTLD_NEXT, "accept4");
    int c = real(fd, addr, addrlen, flags);
    set_nodelay(c);
    return c;
}
