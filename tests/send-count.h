/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A send interposer for tests: counts the system calls that write to
 * sockets (send, sendto, sendmsg, sendmmsg) whose peer is 127.0.0.1:port
 * while send_count_port is set, and passes every call on to the kernel.
 * Include it in exactly one file of a test program.
 */
#pragma once

#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static int send_count_port;      /* 0: count nothing */
static unsigned long send_calls; /* system calls that wrote to the port */

static void send_count(int fd) {
        struct sockaddr_in sa;
        socklen_t len = sizeof(sa);
        int port = __atomic_load_n(&send_count_port, __ATOMIC_RELAXED);

        if (port > 0 && getpeername(fd, (struct sockaddr *) &sa, &len) == 0 &&
            sa.sin_family == AF_INET && ntohs(sa.sin_port) == port)
                __atomic_add_fetch(&send_calls, 1, __ATOMIC_RELAXED);
}

ssize_t send(int fd, const void *p, size_t n, int flags) {
        send_count(fd);
        return syscall(SYS_sendto, fd, p, n, flags, NULL, 0);
}
ssize_t sendto(int fd, const void *p, size_t n, int flags, const struct sockaddr *sa,
               socklen_t len) {
        send_count(fd);
        return syscall(SYS_sendto, fd, p, n, flags, sa, len);
}
ssize_t sendmsg(int fd, const struct msghdr *m, int flags) {
        send_count(fd);
        return syscall(SYS_sendmsg, fd, m, flags);
}
int sendmmsg(int fd, struct mmsghdr *v, unsigned n, int flags) {
        send_count(fd);
        return (int) syscall(SYS_sendmmsg, fd, v, n, flags);
}
