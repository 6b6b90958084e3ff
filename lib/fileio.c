/*
 * fileio.c: atomic writes, synced appends.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/error.h"
#include "lib/fileio.h"

int
fileio_join(char *out, size_t size, const char *dir, const char *name)
{
	int n = snprintf(out, size, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= size)
		return cairn_error(CAIRN_E_TOO_LARGE, "path %s/%s is too long",
		    dir, name);
	return 0;
}

int
fileio_fsync_dir(const char *path)
{
	char buf[PATH_MAX];
	int fd, r = 0;

	if (strlen(path) >= sizeof(buf))
		return cairn_error(CAIRN_E_TOO_LARGE, "path too long: %s",
		    path);
	memcpy(buf, path, strlen(path) + 1);
	if ((fd = open(dirname(buf), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1)
		return cairn_error(CAIRN_E_IO, "%s: %s", buf, strerror(errno));
	if (fsync(fd) != 0)
		r = cairn_error(CAIRN_E_IO, "fsync %s: %s", buf,
		    strerror(errno));
	close(fd);
	return r;
}

static int
write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
fileio_write_atomic(const char *path, const void *data, size_t len,
    mode_t mode, int flags)
{
	char tmp[PATH_MAX];
	struct stat st;
	int fd = -1, r;

	if (!(flags & FILEIO_REPLACE) && lstat(path, &st) == 0)
		return cairn_error(CAIRN_E_EXISTS,
		    "%s exists already; refusing to overwrite it", path);
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >=
	    (int)sizeof(tmp))
		return cairn_error(CAIRN_E_TOO_LARGE, "path too long: %s",
		    path);
	if ((fd = mkstemp(tmp)) == -1)
		return cairn_error(CAIRN_E_IO, "cannot create a file beside "
		    "%s: %s", path, strerror(errno));
	if (fchmod(fd, mode) != 0 || write_all(fd, data, len) != 0 ||
	    fsync(fd) != 0) {
		r = cairn_error(CAIRN_E_IO, "writing %s: %s", path,
		    strerror(errno));
		goto fail;
	}
	if (close(fd) != 0) {
		fd = -1;
		r = cairn_error(CAIRN_E_IO, "writing %s: %s", path,
		    strerror(errno));
		goto fail;
	}
	fd = -1;
	/* Without REPLACE, link() refuses a file that appeared meanwhile,
	 * where rename() would silently replace it. */
	if (!(flags & FILEIO_REPLACE)) {
		if (link(tmp, path) != 0) {
			r = errno == EEXIST ?
			    cairn_error(CAIRN_E_EXISTS, "%s exists already; "
				"refusing to overwrite it", path) :
			    cairn_error(CAIRN_E_IO, "%s: %s", path,
				strerror(errno));
			goto fail;
		}
		unlink(tmp);
	} else if (rename(tmp, path) != 0) {
		r = cairn_error(CAIRN_E_IO, "%s: %s", path, strerror(errno));
		goto fail;
	}
	return fileio_fsync_dir(path);
fail:
	if (fd != -1)
		close(fd);
	unlink(tmp);
	return r;
}

int
fileio_append_sync(const char *path, const void *data, size_t len,
    mode_t mode)
{
	int fd, r = 0;
	struct stat st;
	int created = lstat(path, &st) != 0;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    mode);
	if (fd == -1)
		return cairn_error(CAIRN_E_IO, "%s: %s%s", path,
		    strerror(errno), errno == ELOOP ?
			" (symbolic links are refused)" : "");
	if (write_all(fd, data, len) != 0 || fsync(fd) != 0)
		r = cairn_error(CAIRN_E_IO, "appending to %s: %s", path,
		    strerror(errno));
	if (close(fd) != 0 && r == 0)
		r = cairn_error(CAIRN_E_IO, "appending to %s: %s", path,
		    strerror(errno));
	if (r == 0 && created)
		r = fileio_fsync_dir(path);
	return r;
}
