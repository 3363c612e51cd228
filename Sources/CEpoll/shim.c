#define _GNU_SOURCE
#include <stddef.h>
#include <errno.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include "CEpoll.h"

int cepoll_accept4(int fd, int flags) { return accept4(fd, NULL, NULL, flags); }

int crecd_epoll_wait_ns(int epfd, int *fds, uint32_t *events, int max, int64_t timeout_ns) {
    struct epoll_event evs[256];
    if (max > 256) max = 256;
    struct timespec ts = { .tv_sec = timeout_ns / 1000000000, .tv_nsec = timeout_ns % 1000000000 };
    int n = epoll_pwait2(epfd, evs, max, timeout_ns < 0 ? NULL : &ts, NULL);
    if (n < 0 && errno == ENOSYS) {
        n = epoll_wait(epfd, evs, max, timeout_ns < 0 ? -1 : (int)((timeout_ns + 999999) / 1000000));
    }
    for (int i = 0; i < n; i++) {
        fds[i] = (int)evs[i].data.u64;
        events[i] = evs[i].events;
    }
    return n;
}

int crecd_set_timer_slack(unsigned long ns) { return prctl(PR_SET_TIMERSLACK, ns, 0, 0, 0); }
