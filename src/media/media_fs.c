/*
 * media_fs.c - the file-system storage backend and the media directory's
 * copies for backup and restore.  A blob is written to a temporary file in
 * its fan-out directory (DIR/ab/.tmp-XXXXXX), fsynced, renamed onto its
 * key and the directory fsynced: a crash leaves the old state or the new,
 * never half a file (a stray .tmp- file is removed by the next open).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "media/media.h"

typedef struct {
    char dir[SB_PATH_BYTES_MAX];
} fs_impl;

int media_dir_for_location(const char *location, char *out, size_t out_size) {
    if (!location || !*location) return SB_EINVAL;
    int n = strncmp(location, "sqlite:", 7) == 0 ? snprintf(out, out_size, "%s.media", location + 7)
                                                 : snprintf(out, out_size, "%s/media", location);
    return n > 0 && (size_t)n < out_size ? SB_OK : SB_ELIMIT;
}

/* snprintf into a path buffer; SB_ELIMIT when it does not fit. */
static int SB_PRINTF(3, 4) path_fmt(char *out, size_t size, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, size, fmt, ap);
    va_end(ap);
    return n >= 0 && (size_t)n < size ? SB_OK : SB_ELIMIT;
}

static int mkdir_if_missing(const char *path) { return mkdir(path, 0700) == 0 || errno == EEXIST ? SB_OK : SB_EIO; }

static int fsync_dir(const char *path) {
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return SB_EIO;
    int rc = fsync(fd);
    close(fd);
    return rc == 0 ? SB_OK : SB_EIO;
}

/* A key is "hh/" + 64 hex [+ ".thumb"]: nothing else reaches a path. */
static bool key_ok(const char *key) {
    size_t len = strlen(key);
    if (len != 67 && len != 73) return false;
    for (size_t i = 0; i < 67; i++) {
        char ch = key[i];
        bool hex = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
        if (i == 2 ? ch != '/' : !hex) return false;
    }
    return len == 67 || strcmp(key + 67, ".thumb") == 0;
}

/* Remove temporary files a crash left in one fan-out directory. */
static void remove_stale_temps(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char path[SB_PATH_BYTES_MAX];
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, ".tmp-", 5) != 0) continue;
        if (path_fmt(path, sizeof path, "%s/%s", dir, e->d_name) == SB_OK) (void)unlink(path);
    }
    closedir(d);
}

int media_storage_fs_open(const char *dir, void **impl_out) {
    *impl_out = NULL;
    if (!dir || strlen(dir) + 80 >= SB_PATH_BYTES_MAX) return SB_EINVAL;
    if (mkdir_if_missing(dir) != SB_OK) return SB_EIO;
    fs_impl *fs = sb_malloc(sizeof *fs);
    if (!fs) return SB_ENOMEM;
    (void)path_fmt(fs->dir, sizeof fs->dir, "%s", dir); /* fits: checked above */
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char sub[SB_PATH_BYTES_MAX];
        while ((e = readdir(d)) != NULL) {
            if (strlen(e->d_name) != 2 || e->d_name[0] == '.') continue;
            if (path_fmt(sub, sizeof sub, "%s/%s", dir, e->d_name) == SB_OK) remove_stale_temps(sub);
        }
        closedir(d);
    }
    *impl_out = fs;
    return SB_OK;
}

static int write_all(int fd, const unsigned char *data, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return SB_EIO;
        data += n;
        len -= (size_t)n;
    }
    return SB_OK;
}

static int fs_put(void *impl, const char *key, const void *data, size_t len) {
    fs_impl *fs = impl;
    if (!key_ok(key)) return SB_EINVAL;
    char sub[SB_PATH_BYTES_MAX], tmp[SB_PATH_BYTES_MAX], path[SB_PATH_BYTES_MAX];
    if (path_fmt(sub, sizeof sub, "%s/%.2s", fs->dir, key) != SB_OK ||
        path_fmt(path, sizeof path, "%s/%s", fs->dir, key) != SB_OK ||
        path_fmt(tmp, sizeof tmp, "%s/.tmp-XXXXXX", sub) != SB_OK)
        return SB_ELIMIT;
    if (mkdir_if_missing(sub) != SB_OK) return SB_EIO;
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) return SB_EIO;
    int result = write_all(fd, data, len);
    if (result == SB_OK && fsync(fd) != 0) result = SB_EIO;
    if (close(fd) != 0 && result == SB_OK) result = SB_EIO;
    if (result == SB_OK && rename(tmp, path) != 0) result = SB_EIO;
    if (result != SB_OK) {
        (void)unlink(tmp);
        return result;
    }
    return fsync_dir(sub);
}

static int fs_get(void *impl, const char *key, size_t max_bytes, unsigned char **data_out, size_t *len_out) {
    fs_impl *fs = impl;
    *data_out = NULL;
    *len_out = 0;
    if (!key_ok(key)) return SB_EINVAL;
    char path[SB_PATH_BYTES_MAX];
    if (path_fmt(path, sizeof path, "%s/%s", fs->dir, key) != SB_OK) return SB_ELIMIT;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? SB_ENOTFOUND : SB_EIO;
    struct stat st;
    int result = fstat(fd, &st) == 0 ? SB_OK : SB_EIO;
    if (result == SB_OK && (st.st_size < 0 || (uint64_t)st.st_size > max_bytes)) result = SB_ELIMIT;
    size_t size = result == SB_OK ? (size_t)st.st_size : 0;
    unsigned char *data = result == SB_OK ? sb_malloc(size ? size : 1) : NULL;
    if (result == SB_OK && !data) result = SB_ENOMEM;
    size_t got = 0;
    while (result == SB_OK && got < size) {
        ssize_t n = read(fd, data + got, size - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0)
            result = SB_EIO;
        else
            got += (size_t)n;
    }
    close(fd);
    if (result != SB_OK) {
        sb_free(data);
        return result;
    }
    *data_out = data;
    *len_out = size;
    return SB_OK;
}

static int fs_remove(void *impl, const char *key) {
    fs_impl *fs = impl;
    if (!key_ok(key)) return SB_EINVAL;
    char path[SB_PATH_BYTES_MAX];
    if (path_fmt(path, sizeof path, "%s/%s", fs->dir, key) != SB_OK) return SB_ELIMIT;
    return unlink(path) == 0 || errno == ENOENT ? SB_OK : SB_EIO;
}

static int fs_local_path(void *impl, const char *key, char *out, size_t out_size) {
    fs_impl *fs = impl;
    if (!key_ok(key)) return SB_EINVAL;
    return path_fmt(out, out_size, "%s/%s", fs->dir, key);
}

static void fs_close(void *impl) { sb_free(impl); }

const media_storage_ops media_storage_fs = {
    .name = "fs", .put = fs_put, .get = fs_get, .remove = fs_remove, .local_path = fs_local_path, .close = fs_close};

/* ---- copies of the media directory (backup and restore) ---- */

/* Copy src to dst (created exclusively through a temporary name), fsynced. */
static int copy_file(const char *src, const char *dst) {
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) return SB_EIO;
    char tmp[SB_PATH_BYTES_MAX];
    if (path_fmt(tmp, sizeof tmp, "%s.tmp", dst) != SB_OK) {
        close(in);
        return SB_ELIMIT;
    }
    int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int result = out >= 0 ? SB_OK : SB_EIO;
    unsigned char buf[64 * 1024];
    while (result == SB_OK) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) result = SB_EIO;
        if (n <= 0) break;
        result = write_all(out, buf, (size_t)n);
    }
    if (out >= 0) {
        if (result == SB_OK && fsync(out) != 0) result = SB_EIO;
        if (close(out) != 0 && result == SB_OK) result = SB_EIO;
    }
    close(in);
    if (result == SB_OK && rename(tmp, dst) != 0) result = SB_EIO;
    if (result != SB_OK) (void)unlink(tmp);
    return result;
}

/* Every blob of src_root (two levels: ab/cdef...) into dst_root: hard
 * linked, else copied; existing destinations kept (the names are hashes). */
static int copy_tree(const char *src_root, const char *dst_root) {
    if (mkdir_if_missing(dst_root) != SB_OK) return SB_EIO;
    DIR *top = opendir(src_root);
    if (!top) return errno == ENOENT ? SB_OK : SB_EIO;
    int result = SB_OK;
    struct dirent *e;
    char src_sub[SB_PATH_BYTES_MAX], dst_sub[SB_PATH_BYTES_MAX], src[SB_PATH_BYTES_MAX], dst[SB_PATH_BYTES_MAX];
    while (result == SB_OK && (e = readdir(top)) != NULL) {
        if (strlen(e->d_name) != 2 || e->d_name[0] == '.') continue;
        if (path_fmt(src_sub, sizeof src_sub, "%s/%s", src_root, e->d_name) != SB_OK ||
            path_fmt(dst_sub, sizeof dst_sub, "%s/%s", dst_root, e->d_name) != SB_OK) {
            result = SB_ELIMIT;
            break;
        }
        if (mkdir_if_missing(dst_sub) != SB_OK) {
            result = SB_EIO;
            break;
        }
        DIR *d = opendir(src_sub);
        if (!d) continue;
        struct dirent *f;
        while (result == SB_OK && (f = readdir(d)) != NULL) {
            if (f->d_name[0] == '.') continue; /* ., .., .tmp- */
            if (path_fmt(src, sizeof src, "%s/%s", src_sub, f->d_name) != SB_OK ||
                path_fmt(dst, sizeof dst, "%s/%s", dst_sub, f->d_name) != SB_OK) {
                result = SB_ELIMIT;
                break;
            }
            if (access(dst, F_OK) == 0) continue;
            if (link(src, dst) != 0) result = copy_file(src, dst);
        }
        closedir(d);
        if (result == SB_OK) result = fsync_dir(dst_sub);
    }
    closedir(top);
    if (result == SB_OK) result = fsync_dir(dst_root);
    return result;
}

int media_backup_path(const char *backup_db_path, char *out, size_t out_size) {
    if (!backup_db_path || !*backup_db_path) return SB_EINVAL;
    return path_fmt(out, out_size, "%s.media", backup_db_path);
}

int media_backup_dir(const char *data_location, const char *dest_dir) {
    char src[SB_PATH_BYTES_MAX];
    int result = media_dir_for_location(data_location, src, sizeof src);
    if (result != SB_OK) return result;
    return copy_tree(src, dest_dir);
}

int media_restore_dir(const char *src_dir, const char *data_location) {
    char dst[SB_PATH_BYTES_MAX];
    int result = media_dir_for_location(data_location, dst, sizeof dst);
    if (result != SB_OK) return result;
    return copy_tree(src_dir, dst);
}

int media_remove_dir(const char *data_location) {
    char root[SB_PATH_BYTES_MAX], sub[SB_PATH_BYTES_MAX], file[SB_PATH_BYTES_MAX];
    int result = media_dir_for_location(data_location, root, sizeof root);
    if (result != SB_OK) return result;
    DIR *top = opendir(root);
    if (!top) return errno == ENOENT ? SB_OK : SB_EIO;
    struct dirent *e;
    while ((e = readdir(top)) != NULL) {
        if (strlen(e->d_name) != 2 || e->d_name[0] == '.') continue;
        if (path_fmt(sub, sizeof sub, "%s/%s", root, e->d_name) != SB_OK) {
            result = SB_ELIMIT;
            continue;
        }
        DIR *d = opendir(sub);
        if (!d) continue;
        struct dirent *f;
        while ((f = readdir(d)) != NULL) {
            if (strcmp(f->d_name, ".") == 0 || strcmp(f->d_name, "..") == 0) continue;
            if (path_fmt(file, sizeof file, "%s/%s", sub, f->d_name) != SB_OK || unlink(file) != 0) result = SB_EIO;
        }
        closedir(d);
        if (rmdir(sub) != 0) result = SB_EIO;
    }
    closedir(top);
    if (rmdir(root) != 0) result = SB_EIO;
    return result;
}
