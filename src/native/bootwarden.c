/*
 * The system calls bootwarden needs that Node has no binding for: flock(2), for the boot state's lock without a
 * helper process on the mark's path; madvise(2) and malloc_trim(3), to give memory back once the daemon idles
 * after a verdict.
 *
 * Node-API only, so one build loads in every Node the project runs on (20, 22, 24). The decisions are made in
 * TypeScript, where they are tested (which ranges may be dropped: src/memory/smaps.ts; how long to wait for a
 * lock: src/bootstate/lock.ts); this file trusts its caller.
 */
#define NAPI_VERSION 8
#include <errno.h>
#include <malloc.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>

static napi_value fail(napi_env env, const char *what, int err) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_throw_error(env, NULL, msg);
  return NULL;
}

static int bigint_arg(napi_env env, napi_value v, uint64_t *out) {
  bool lossless = false;
  return napi_get_value_bigint_uint64(env, v, out, &lossless) == napi_ok && lossless;
}

/*
 * dropPages(start: bigint, length: bigint): MADV_DONTNEED over a range of this process's own mappings. For a
 * private file mapping with no copied-on-write page this only removes the page-table entries: the pages stay in
 * the page cache and come back, unchanged, on the next touch.
 */
static napi_value drop_pages(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  uint64_t start = 0, length = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2 ||
      !bigint_arg(env, argv[0], &start) || !bigint_arg(env, argv[1], &length)) {
    napi_throw_type_error(env, NULL, "dropPages(start: bigint, length: bigint)");
    return NULL;
  }
  if (madvise((void *)(uintptr_t)start, (size_t)length, MADV_DONTNEED) != 0) return fail(env, "madvise", errno);
  return NULL;
}

/*
 * tryLock(fd: number): flock(fd, LOCK_EX | LOCK_NB). true: the lock is ours until the descriptor is closed (or the
 * process dies); false: another open file holds it. Never blocks, so the event loop never waits on another writer.
 */
static napi_value try_lock(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd = -1;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, NULL, "tryLock(fd: number)");
    return NULL;
  }
  int r;
  do r = flock(fd, LOCK_EX | LOCK_NB);
  while (r != 0 && errno == EINTR);
  if (r != 0 && errno != EWOULDBLOCK) return fail(env, "flock", errno);
  napi_value result;
  napi_get_boolean(env, r == 0, &result);
  return result;
}

/* mallocTrim(): true when glibc gave memory back to the kernel (its free chunks, in every arena). */
static napi_value malloc_trim_all(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  napi_get_boolean(env, malloc_trim(0) == 1, &result);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "dropPages", NAPI_AUTO_LENGTH, drop_pages, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "dropPages", fn) != napi_ok ||
      napi_create_function(env, "mallocTrim", NAPI_AUTO_LENGTH, malloc_trim_all, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "mallocTrim", fn) != napi_ok ||
      napi_create_function(env, "tryLock", NAPI_AUTO_LENGTH, try_lock, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "tryLock", fn) != napi_ok)
    return NULL;
  return exports;
}
