#ifndef CEPOLL_H
#define CEPOLL_H

// The parts of Linux that Swift's Glibc module does not import: epoll
// (and epoll_pwait2), eventfd, accept4 and prctl, glibc's malloc_trim and
// mallopt, and __builtin_prefetch. Thin wrappers so Swift sees plain
// functions and integer constants instead of macros and packed structs.

#include <sys/epoll.h>
#include <malloc.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <stdint.h>

static const uint32_t CEPOLL_IN = EPOLLIN;
static const uint32_t CEPOLL_OUT = EPOLLOUT;
static const uint32_t CEPOLL_ERR = EPOLLERR;
static const uint32_t CEPOLL_HUP = EPOLLHUP;
static const uint32_t CEPOLL_RDHUP = EPOLLRDHUP;
static const uint32_t CEPOLL_EXCLUSIVE = EPOLLEXCLUSIVE;

static inline int cepoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

/// Adds, modifies or removes `fd`; the fd itself is carried as the event's data.
static inline int cepoll_ctl(int epfd, int op, int fd, uint32_t events) {
    struct epoll_event ev;
    ev.events = events;
    ev.data.u64 = (uint64_t)fd;
    return epoll_ctl(epfd, op, fd, &ev);
}

static const int CEPOLL_CTL_ADD = EPOLL_CTL_ADD;
static const int CEPOLL_CTL_MOD = EPOLL_CTL_MOD;
static const int CEPOLL_CTL_DEL = EPOLL_CTL_DEL;

/// Waits and unpacks the (packed on x86_64) epoll_event array into two plain arrays.
static inline int cepoll_wait(int epfd, int *fds, uint32_t *events, int max, int timeout_ms) {
    struct epoll_event evs[256];
    if (max > 256) max = 256;
    int n = epoll_wait(epfd, evs, max, timeout_ms);
    for (int i = 0; i < n; i++) {
        fds[i] = (int)evs[i].data.u64;
        events[i] = evs[i].events;
    }
    return n;
}

static inline int cepoll_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

/// accept4 needs _GNU_SOURCE, which Swift's Glibc module is not built with,
/// so it lives in shim.c.
int cepoll_accept4(int fd, int flags);

/* cepoll_wait with a nanosecond timeout (epoll_pwait2, falling back to
   epoll_wait rounded up to milliseconds on kernels before 5.11; it needs
   _GNU_SOURCE, so it lives in shim.c). An open-loop load generator sleeps
   until its next send with it instead of spinning on a core the server
   under test needs. A negative timeout waits without limit. */
int crecd_epoll_wait_ns(int epfd, int *fds, uint32_t *events, int max, int64_t timeout_ns);

/* This thread's timer slack in ns (the default 50 us makes short sleeps
   oversleep). prctl is not in Glibc's Swift module. */
int crecd_set_timer_slack(unsigned long ns);

/* Returns freed heap pages to the kernel (glibc keeps them otherwise).
   Not in Glibc's Swift module. */
static inline int crecd_malloc_trim(void) { return malloc_trim(0); }

/* Large blocks from the heap instead of their own mmap, and freed memory
   kept for reuse: see RecCore's Allocator.swift. mallopt is not in Glibc's
   Swift module either. Returns 1 when glibc took both settings. */
static inline int crecd_malloc_reuse_large(void) {
    return mallopt(M_MMAP_THRESHOLD, 32 << 20) && mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

/* A cache prefetch hint (HNSW search touches neighbours' vectors next). */
static inline void crecd_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }

#endif
