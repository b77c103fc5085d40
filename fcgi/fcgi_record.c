/* fcgi_record: the FastCGI record header, written once for the whole tree
 * (the edge's writev and splice paths, and bench/edge_ceiling.c, which
 * compiles this file on its own: nothing here needs config.h). */
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include "fcgi/fcgi_record.h"

/* Records per writev: 8 full records are 512 KiB per syscall. */
#define FCGI_RECORD_IOV 8

void fcgi_record_header(unsigned char h[FCGI_HEADER_LEN], unsigned char type,
                        uint16_t request_id, uint16_t content_len, unsigned char padding)
{
    h[0] = FCGI_VERSION_1;
    h[1] = type;
    h[2] = (unsigned char)(request_id >> 8);
    h[3] = (unsigned char)(request_id & 0xff);
    h[4] = (unsigned char)(content_len >> 8);
    h[5] = (unsigned char)(content_len & 0xff);
    h[6] = padding;
    h[7] = 0;
}

/* writev all of iov[0..cnt) to a blocking fd (libfcgi's accept() leaves
 * the connection blocking; it fails on EAGAIN too, and so do we). */
static int fcgi_record_writev_all(int fd, struct iovec *iov, int cnt)
{
    while (cnt > 0) {
        ssize_t w = writev(fd, iov, cnt);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        size_t left = (size_t)w;
        while (cnt > 0 && left >= iov->iov_len) {
            left -= iov->iov_len;
            iov++;
            cnt--;
        }
        if (cnt > 0) {
            iov->iov_base = (char *)iov->iov_base + left;
            iov->iov_len -= left;
        }
    }
    return 0;
}

int fcgi_record_write(int fd, unsigned char type, uint16_t request_id, const void *buf,
                      size_t n)
{
    const char *p = buf;
    unsigned char hdr[FCGI_RECORD_IOV][FCGI_HEADER_LEN];
    struct iovec iov[2 * FCGI_RECORD_IOV];
    while (n > 0) {
        int cnt = 0;
        size_t batch = 0;
        for (int i = 0; i < FCGI_RECORD_IOV && batch < n; i++) {
            size_t len = n - batch > FCGI_RECORD_MAX ? FCGI_RECORD_MAX : n - batch;
            fcgi_record_header(hdr[i], type, request_id, (uint16_t)len, 0);
            iov[cnt].iov_base = hdr[i];
            iov[cnt++].iov_len = sizeof hdr[i];
            iov[cnt].iov_base = (void *)(p + batch);
            iov[cnt++].iov_len = len;
            batch += len;
        }
        if (fcgi_record_writev_all(fd, iov, cnt) < 0)
            return -1;
        p += batch;
        n -= batch;
    }
    return 0;
}

static long long fcgi_record_now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int fcgi_record_abort(int fd, int wait_ms)
{
    static const unsigned char bogus[FCGI_HEADER_LEN] = { 0 };   /* version 0: no such protocol */
    size_t off = 0;
    long long deadline = fcgi_record_now_ms() + wait_ms;
    while (off < sizeof bogus) {
        ssize_t w = send(fd, bogus + off, sizeof bogus - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w > 0) {
            off += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        long long left = deadline - fcgi_record_now_ms();
        if (w == 0 || (errno != EAGAIN && errno != EWOULDBLOCK) || left <= 0)
            return -1;   /* the peer is gone or stuck */
        struct pollfd p = { .fd = fd, .events = POLLOUT };
        (void)poll(&p, 1, (int)left);
    }
    return 0;
}
