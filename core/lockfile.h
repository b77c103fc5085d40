/* lockfile: an exclusive flock on a file, the way this registry's processes
 * serialize work among themselves (a pushed layout's edits, a digest's
 * link-or-remove). The kernel drops the lock with the last descriptor of
 * the open file, so a holder that dies gives it back. */
#ifndef CORE_LOCKFILE_H
#define CORE_LOCKFILE_H

/* Opens path (created, mode 0600) and takes an exclusive lock on it,
 * waiting when wait is set (EINTR retried), else failing at once with
 * EWOULDBLOCK. The descriptor to close to release it, or -1 with errno. */
int lockfile_take(const char *path, int wait);

#endif
