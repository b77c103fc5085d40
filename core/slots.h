/* slots: at most n holders at a time across the processes of one registry,
 * as n lock files <dir>/0 .. <dir>/<n-1>; a holder has one of them flock()ed.
 *
 * Why lock files and not a counter in shared memory: the kernel drops a
 * flock when the last descriptor of its open file goes away, and a process
 * that dies (SIGKILL, the OOM killer) closes everything. A worker killed in
 * the middle of an upload gives its slot back without anyone's help; a
 * counter would need the master to know which slot each dead worker held.
 *
 * Each process opens the files itself (flock locks belong to an open file,
 * so descriptors inherited across fork() would share one lock); a process
 * holds at most one slot. Taking is never blocking: FULL at once when every
 * file is locked, so the caller can refuse rather than wait. A holder
 * writes its pid into its file, so another process can tell who holds
 * what (slots_holders). */
#ifndef CORE_SLOTS_H
#define CORE_SLOTS_H

enum slots_rc {
    SLOTS_TAKEN = 0,   /* this process holds a slot now */
    SLOTS_FULL,        /* n other holders */
    SLOTS_ERROR,       /* the files could not be made or opened (errno set) */
};

struct slots {
    char *dir;         /* owned */
    unsigned n;
    int *fds;          /* n descriptors, opened on the first take; -1 unopened */
    int held;          /* index of the slot held, -1 none */
};

/* n slots in dir (created, mode 0700, on the first take). No I/O here. */
void slots_init(struct slots *s, const char *dir, unsigned n);
/* Releases a held slot and closes the files. */
void slots_free(struct slots *s);
/* Takes a free slot (an enum slots_rc). Taking while holding one keeps it. */
int slots_take(struct slots *s);
/* Gives the held slot back (none held: nothing happens). */
void slots_release(struct slots *s);

/* How many of the n slots in dir are held, by probing each file with a
 * shared lock that fails while a holder has it (no /proc/locks: systemd's
 * ProcSubset=pid hides it). The holders' pids go to pids[0..return) when
 * pids is not NULL (room for n). A take that meets a probe tries the
 * other files, and all of them twice, before it says FULL. */
unsigned slots_holders(const char *dir, unsigned n, int *pids);

#endif
