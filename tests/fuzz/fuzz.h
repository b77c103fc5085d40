/* fuzz: what the libFuzzer targets in tests/fuzz/ share. Each target is one
 * fuzz_<what>.c defining LLVMFuzzerTestOneInput over product code built with
 * clang (tests/fuzz/fuzz.mk); a run must be deterministic and leak-free, so
 * every helper here hands back memory the target frees. */
#ifndef TESTS_FUZZ_FUZZ_H
#define TESTS_FUZZ_FUZZ_H
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant of the code under test: when it does not hold, say which and
 * abort, so libFuzzer keeps the input as a crash like any sanitizer report. */
#define FUZZ_ASSERT(cond) \
    do { \
        if (!(cond)) \
            fuzz_fail(__FILE__, __LINE__, #cond); \
    } while (0)
void fuzz_fail(const char *file, int line, const char *what) __attribute__((noreturn));

/* The input as a C string (a new copy; an embedded NUL ends it early, as it
 * would in any header or path the product reads). Caller frees. */
char *fuzz_cstr(const uint8_t *data, size_t size);

/* Reads an input as lines: fuzz_line() takes the text up to the next '\n'
 * (or the end) as a new string (caller frees), NULL once nothing is left;
 * fuzz_rest() is what remains, unread. */
struct fuzz_in {
    const uint8_t *p;
    size_t n;
};
char *fuzz_line(struct fuzz_in *in);
/* The bytes up to (not including) sep, or the rest when sep does not occur;
 * *len gets their length and in moves past sep. Borrowed from the input. */
const uint8_t *fuzz_until(struct fuzz_in *in, const char *sep, size_t *len);

/* A private directory under $TMPDIR made on the first call and removed with
 * everything in it at exit (state files the code under test writes). */
const char *fuzz_tmpdir(void);
/* Removes everything inside dir (not dir itself): state left by one input
 * must not change how the next one runs. */
void fuzz_empty_dir(const char *dir);
/* Writes data to a new file in fuzz_tmpdir() and returns its path (caller
 * frees, and unlinks when done). */
char *fuzz_write_file(const char *name, const void *data, size_t size);

/* Quiets the product's log to errors only (the fuzzer's own output is what
 * matters) and clears the environment variables the product reads, so a
 * run does not depend on the shell it was started from. */
void fuzz_setup(void);

#endif
