#include "common/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bsd/string.h>

int
pga_write_all(int fd, const void *buf, size_t len, const char *path,
	      struct pga_err *err)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return pga_fail(err, pga_errno_code(errno),
					"could not write '%s': %m", path);
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
pga_read_full(int fd, void *buf, size_t len, size_t *got, const char *path,
	      struct pga_err *err)
{
	char *p = buf;
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, p + done, len - done);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return pga_fail(err, PGA_EIO, "could not read '%s': %m", path);
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	*got = done;
	return 0;
}

int
pga_fsync_fd(int fd, const char *path, struct pga_err *err)
{
	if (fsync(fd) != 0)
		return pga_fail(err, pga_errno_code(errno),
				"could not fsync '%s': %m", path);
	return 0;
}

int
pga_fsync_dir(const char *dir, struct pga_err *err)
{
	int fd, rc = 0;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return pga_fail(err, PGA_EIO, "could not open directory '%s': %m", dir);
	if (fsync(fd) != 0)
		rc = pga_fail(err, pga_errno_code(errno),
			      "could not fsync directory '%s': %m", dir);
	close(fd);
	return rc;
}

int
pga_fsync_parent(const char *path, struct pga_err *err)
{
	char dir[PATH_MAX];
	char *slash;

	if (strlcpy(dir, path, sizeof(dir)) >= sizeof(dir))
		return pga_fail(err, PGA_EINVAL, "path too long '%s'", path);
	slash = strrchr(dir, '/');
	if (slash == NULL)
		strlcpy(dir, ".", sizeof(dir));
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	return pga_fsync_dir(dir, err);
}

int
pga_mkdir_p(const char *path, mode_t mode, struct pga_err *err)
{
	char buf[PATH_MAX];
	size_t len;
	int rc;

	if (strlcpy(buf, path, sizeof(buf)) >= sizeof(buf))
		return pga_fail(err, PGA_EINVAL, "path too long '%s'", path);
	len = strlen(buf);
	while (len > 1 && buf[len - 1] == '/')
		buf[--len] = '\0';
	if (mkdir(buf, mode) == 0)
		return pga_fsync_parent(buf, err);
	if (errno == EEXIST) {
		struct stat st;

		if (stat(buf, &st) == 0 && S_ISDIR(st.st_mode))
			return 0;
		return pga_fail(err, PGA_EIO, "'%s' exists and is not a directory", buf);
	}
	if (errno != ENOENT)
		return pga_fail(err, pga_errno_code(errno),
				"could not create directory '%s': %m", buf);
	{
		char *slash = strrchr(buf, '/');

		if (slash == NULL || slash == buf)
			return pga_fail(err, PGA_EIO,
					"could not create directory '%s': %m", buf);
		*slash = '\0';
		rc = pga_mkdir_p(buf, mode, err);
		*slash = '/';
		if (rc < 0)
			return rc;
	}
	if (mkdir(buf, mode) != 0 && errno != EEXIST)
		return pga_fail(err, pga_errno_code(errno),
				"could not create directory '%s': %m", buf);
	return pga_fsync_parent(buf, err);
}

int
pga_mkdir_parent(const char *path, mode_t mode, struct pga_err *err)
{
	char dir[PATH_MAX];
	char *slash;

	if (strlcpy(dir, path, sizeof(dir)) >= sizeof(dir))
		return pga_fail(err, PGA_EINVAL, "path too long '%s'", path);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return 0;
	*slash = '\0';
	return pga_mkdir_p(dir, mode, err);
}

int
pga_rename_durable(const char *from, const char *to, struct pga_err *err)
{
	char from_dir[PATH_MAX], to_dir[PATH_MAX];
	char *s;
	int rc;

	if (rename(from, to) != 0)
		return pga_fail(err, pga_errno_code(errno),
				"could not rename '%s' to '%s': %m", from, to);
	rc = pga_fsync_parent(to, err);
	if (rc < 0)
		return rc;
	strlcpy(from_dir, from, sizeof(from_dir));
	strlcpy(to_dir, to, sizeof(to_dir));
	if ((s = strrchr(from_dir, '/')) != NULL)
		*s = '\0';
	if ((s = strrchr(to_dir, '/')) != NULL)
		*s = '\0';
	if (strcmp(from_dir, to_dir) != 0)
		rc = pga_fsync_parent(from, err);
	return rc;
}

int
pga_write_file_atomic(const char *path, const void *data, size_t len,
		      mode_t mode, struct pga_err *err)
{
	char tmp[PATH_MAX];
	int fd = -1, rc;

	rc = pga_path(tmp, sizeof(tmp), err, "%s.tmp", path);
	if (rc < 0)
		return rc;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return pga_fail(err, pga_errno_code(errno),
				"could not create '%s': %m", tmp);
	rc = pga_write_all(fd, data, len, tmp, err);
	if (rc == 0)
		rc = pga_fsync_fd(fd, tmp, err);
	if (close(fd) != 0 && rc == 0)
		rc = pga_fail(err, pga_errno_code(errno), "could not close '%s': %m", tmp);
	if (rc == 0)
		rc = pga_rename_durable(tmp, path, err);
	if (rc < 0)
		unlink(tmp);
	return rc;
}

int
pga_read_small_file(const char *path, char *buf, size_t cap, size_t *len,
		    struct pga_err *err)
{
	size_t got = 0;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return pga_fail(err, PGA_ENOTFOUND, "'%s' does not exist", path);
		return pga_fail(err, PGA_EIO, "could not open '%s': %m", path);
	}
	rc = pga_read_full(fd, buf, cap, &got, path, err);
	close(fd);
	if (rc < 0)
		return rc;
	if (got >= cap)
		return pga_fail(err, PGA_EINVAL, "'%s' is larger than %zu bytes",
				path, cap - 1);
	buf[got] = '\0';
	if (len != NULL)
		*len = got;
	return 0;
}

int
pga_read_optional_file(const char *path, char *buf, size_t cap, bool *exists,
		       struct pga_err *err)
{
	int rc = pga_read_small_file(path, buf, cap, NULL, err);

	if (exists != NULL)
		*exists = rc == 0;
	if (rc == PGA_ENOTFOUND) {
		pga_err_clear(err);
		buf[0] = '\0';
		rc = 0;
	}
	return rc;
}

int
pga_open_sequential(const char *path, int *fd, struct pga_err *err)
{
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		return pga_fail(err, errno == ENOENT ? PGA_ENOTFOUND : PGA_EIO,
				"could not open '%s': %m", path);
	posix_fadvise(*fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	return 0;
}

int
pga_path(char *buf, size_t cap, struct pga_err *err, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, cap, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= cap)
		return pga_fail(err, PGA_EINVAL, "path too long: '%.64s...'", buf);
	return 0;
}
