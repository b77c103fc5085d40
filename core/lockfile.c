/* lockfile: exclusive flock on a file (see lockfile.h). */
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#include "core/lockfile.h"

int lockfile_take(const char *path, int wait)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    while (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0) {
        if (errno != EINTR || !wait) {
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
    }
    return fd;
}
