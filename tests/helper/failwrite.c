/*
 * libfailwrite.so - an LD_PRELOAD shim that makes the disk "fill up"
 *
 *   FAILWRITE_MATCH=substr   only files whose path contains substr (default: all
 *                            regular files)
 *   FAILWRITE_AFTER=N        let N bytes through, then fail every write
 *   FAILWRITE_ERRNO=ENOSPC   or EIO
 *   FAILWRITE_FSYNC=1        fail fsync/fdatasync (once the byte budget is spent)
 *   FAILWRITE_FSYNC=always   fail fsync/fdatasync, let every write through
 *   FAILWRITE_TIMES=N        fail only N calls, then let everything through
 *                            again (a disk that was full for a moment)
 *   FAILWRITE_DIRS=1         directories match too (their fsync can fail)
 *   FAILWRITE_SLOW=CHUNK:US  a slow disk, nothing fails: each write passes at
 *                            most CHUNK bytes (a short write) and takes US
 *                            microseconds, so a kill can land mid-write
 *
 * Used by the full-disk tests where a small tmpfs is not available (tmpfs
 * needs root).  Writes to pipes, sockets and ttys always pass.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

static long long budget = -1;	/* -1: not configured yet */
static int fail_errno = ENOSPC;
static int fail_fsync;
static long long times = -1;	/* failures left; -1: no limit */
static int dirs;
static const char *match;
static long slow_chunk, slow_us;

static void
configure(void)
{
	const char *after = getenv("FAILWRITE_AFTER");
	const char *e = getenv("FAILWRITE_ERRNO");

	budget = after ? atoll(after) : 0;
	if (e != NULL && strcmp(e, "EIO") == 0)
		fail_errno = EIO;
	e = getenv("FAILWRITE_FSYNC");
	fail_fsync = e == NULL ? 0 : strcmp(e, "always") == 0 ? 2 : 1;
	if (fail_fsync == 2)
		budget = -2;	/* unlimited writes */
	match = getenv("FAILWRITE_MATCH");
	e = getenv("FAILWRITE_TIMES");
	times = e ? atoll(e) : -1;
	dirs = getenv("FAILWRITE_DIRS") != NULL;
	e = getenv("FAILWRITE_SLOW");
	if (e != NULL && sscanf(e, "%ld:%ld", &slow_chunk, &slow_us) == 2 && slow_chunk > 0 &&
	    after == NULL && !fail_fsync)
		budget = -2;	/* slow only: every write goes through */
}

static int targeted(int fd);

/* FAILWRITE_SLOW: cut len to the chunk and wait. */
static size_t
slow(int fd, size_t len)
{
	if (slow_chunk <= 0 || !targeted(fd))
		return len;
	usleep((useconds_t)slow_us);
	return len > (size_t)slow_chunk ? (size_t)slow_chunk : len;
}

/* One more failure, unless the allowed number has been used up. */
static int
fail_now(void)
{
	if (times == 0)
		return 0;
	if (times > 0)
		times--;
	return 1;
}

static int
targeted(int fd)
{
	char link[64], path[4096];
	struct stat st;
	ssize_t n;

	if (fstat(fd, &st) != 0 || !(S_ISREG(st.st_mode) || (dirs && S_ISDIR(st.st_mode))))
		return 0;
	if (match == NULL)
		return 1;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0)
		return 0;
	path[n] = '\0';
	return strstr(path, match) != NULL;
}

/* How many of len bytes may go through; -1 with errno set when none. */
static ssize_t
allowance(int fd, size_t len)
{
	if (budget == -1)
		configure();
	if (budget == -2 || !targeted(fd))
		return (ssize_t)len;
	if (budget <= 0 && fail_now()) {
		errno = fail_errno;
		return -1;
	}
	if (budget <= 0)
		return (ssize_t)len;
	if ((long long)len > budget)
		len = (size_t)budget;
	budget -= (long long)len;
	return (ssize_t)len;
}

ssize_t
write(int fd, const void *buf, size_t len)
{
	static ssize_t (*real)(int, const void *, size_t);
	ssize_t ok = allowance(fd, len);

	if (ok > 0)
		ok = (ssize_t)slow(fd, (size_t)ok);

	if (real == NULL)
		real = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
	if (ok < 0)
		return -1;
	return real(fd, buf, (size_t)ok);
}

ssize_t
pwrite(int fd, const void *buf, size_t len, off_t off)
{
	static ssize_t (*real)(int, const void *, size_t, off_t);
	ssize_t ok = allowance(fd, len);

	if (real == NULL)
		real = (ssize_t (*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, "pwrite64");
	if (ok < 0)
		return -1;
	return real(fd, buf, (size_t)ok, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t len, off_t off)
	__attribute__((alias("pwrite")));

static int
fsync_fails(int fd)
{
	if (budget == -1)
		configure();
	if (fail_fsync && (fail_fsync == 2 || budget <= 0) && targeted(fd) && fail_now()) {
		errno = fail_errno;
		return 1;
	}
	return 0;
}

int
fsync(int fd)
{
	static int (*real)(int);

	if (real == NULL)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	if (fsync_fails(fd))
		return -1;
	return real(fd);
}

int
fdatasync(int fd)
{
	static int (*real)(int);

	if (real == NULL)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
	if (fsync_fails(fd))
		return -1;
	return real(fd);
}
