/*
 * Three calls Node has no binding for: flock(2), for the boot state's lock (src/bootstate/lock.ts) taken on a
 * descriptor of the process's own, without a helper process on the mark's path; glibc's malloc_trim(3), for the idle
 * daemon's free heap pages; and prctl(2)'s PR_SET_THP_DISABLE, to keep the daemon's heap off transparent huge pages
 * (both src/memory/heap.ts). Node-API only, so one build loads in every Node the project runs on
 * (20, 22, 24). How long to wait, and on what, and when to trim, is decided in TypeScript, where it is tested.
 */
#define NAPI_VERSION 8
#include <errno.h>
#include <malloc.h>
#include <node_api.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>

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
  if (r != 0 && errno != EWOULDBLOCK) {
    char msg[160];
    snprintf(msg, sizeof msg, "flock: %s", strerror(errno));
    napi_throw_error(env, NULL, msg);
    return NULL;
  }
  napi_value result;
  napi_get_boolean(env, r == 0, &result);
  return result;
}

/* mallocTrim(): malloc_trim(0). true when it gave memory back to the kernel. */
static napi_value malloc_trim_all(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  napi_get_boolean(env, malloc_trim(0) == 1, &result);
  return result;
}

/* noHugePages(): prctl(PR_SET_THP_DISABLE, 1): no transparent huge pages for this process from now on. true when set. */
static napi_value no_huge_pages(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  napi_get_boolean(env, prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) == 0, &result);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "tryLock", NAPI_AUTO_LENGTH, try_lock, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "tryLock", fn) != napi_ok)
    return NULL;
  if (napi_create_function(env, "mallocTrim", NAPI_AUTO_LENGTH, malloc_trim_all, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "mallocTrim", fn) != napi_ok)
    return NULL;
  if (napi_create_function(env, "noHugePages", NAPI_AUTO_LENGTH, no_huge_pages, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "noHugePages", fn) != napi_ok)
    return NULL;
  return exports;
}
