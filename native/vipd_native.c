/*
 * vipd_native: a small N-API addon exposing generic socket system calls to TypeScript.
 *
 * All protocol encoding (sockaddrs, control messages, netlink, frames) lives in TypeScript; this file
 * only moves bytes between caller-owned buffers and the kernel. Conventions:
 *   - setup calls (socket, bind, setsockopt, getsockopt, ...) throw a JS Error whose `code` is the errno
 *     name (for example "EPERM") on failure;
 *   - I/O calls on the hot path (sendmsg, recvmsg) return a negative errno instead of throwing, so that
 *     EAGAIN / ENOBUFS cost no exception; `errnoName(n)` maps a number to its name.
 * A socket is an external handle owning its fd and its libuv poll handle; both are released by close()
 * or, failing that, when the handle is garbage-collected.
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <uv.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct vsock {
  int fd;
  uv_poll_t *poll;     /* allocated lazily, freed in its close callback */
  napi_env env;
  napi_ref callback;   /* JS function called on readiness */
  napi_async_context actx;
} vsock;

/* ---------- errors ---------- */

static const char *errno_name(int e) {
  switch (e) {
#define E(x) case x: return #x;
    E(EPERM) E(ENOENT) E(ESRCH) E(EINTR) E(EIO) E(ENXIO) E(E2BIG) E(EBADF) E(EAGAIN) E(ENOMEM)
    E(EACCES) E(EFAULT) E(EBUSY) E(EEXIST) E(EXDEV) E(ENODEV) E(ENOTDIR) E(EISDIR) E(EINVAL)
    E(ENFILE) E(EMFILE) E(ENOSPC) E(EROFS) E(EPIPE) E(EDOM) E(ERANGE) E(ENAMETOOLONG) E(ENOSYS)
    E(ENOTEMPTY) E(ENODATA) E(ENOTSOCK) E(EDESTADDRREQ) E(EMSGSIZE) E(EPROTOTYPE) E(ENOPROTOOPT)
    E(EPROTONOSUPPORT) E(ESOCKTNOSUPPORT) E(EOPNOTSUPP) E(EPFNOSUPPORT) E(EAFNOSUPPORT) E(EADDRINUSE)
    E(EADDRNOTAVAIL) E(ENETDOWN) E(ENETUNREACH) E(ENETRESET) E(ECONNABORTED) E(ECONNRESET) E(ENOBUFS)
    E(EISCONN) E(ENOTCONN) E(ETIMEDOUT) E(ECONNREFUSED) E(EHOSTDOWN) E(EHOSTUNREACH) E(EALREADY)
    E(EINPROGRESS) E(ENOLINK) E(EPROTO) E(EOVERFLOW)
    E(EBADMSG) E(ENOTUNIQ) E(ERFKILL)
#undef E
    default: return "EUNKNOWN";
  }
}

static napi_value throw_errno(napi_env env, const char *what, int e) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s: %s (%s)", what, strerror(e), errno_name(e));
  napi_throw_error(env, errno_name(e), msg);
  return NULL;
}

static napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, "EINVAL", msg);
  return NULL;
}

/* ---------- argument helpers ---------- */

static napi_value int_value(napi_env env, int64_t v) {
  napi_value r;
  napi_create_int64(env, v, &r);
  return r;
}

static napi_value undef(napi_env env) {
  napi_value r;
  napi_get_undefined(env, &r);
  return r;
}

static int arg_int(napi_env env, napi_value v, int32_t *out) {
  return napi_get_value_int32(env, v, out) == napi_ok;
}

/* A Uint8Array (or Buffer) view; null/undefined gives an empty view when allow_null. */
static int arg_bytes(napi_env env, napi_value v, int allow_null, void **data, size_t *len) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return 0;
  if (allow_null && (t == napi_null || t == napi_undefined)) {
    *data = NULL;
    *len = 0;
    return 1;
  }
  bool is_ta = false;
  napi_is_typedarray(env, v, &is_ta);
  if (!is_ta) return 0;
  napi_typedarray_type tt;
  size_t n;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &tt, &n, data, &ab, &off) != napi_ok) return 0;
  if (tt == napi_uint8_array || tt == napi_int8_array || tt == napi_uint8_clamped_array) *len = n;
  else if (tt == napi_int32_array || tt == napi_uint32_array) *len = n * 4;
  else return 0;
  if (*data == NULL && *len == 0) *data = (void *)"";
  return 1;
}

static void sock_release(vsock *s);

static void sock_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  sock_release((vsock *)data);
}

static vsock *arg_sock(napi_env env, napi_value v) {
  void *p = NULL;
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external) return NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok) return NULL;
  return (vsock *)p;
}

#define GET_ARGS(n)                                                   \
  size_t argc = (n);                                                  \
  napi_value argv[(n) > 0 ? (n) : 1];                                 \
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) \
    return throw_type(env, "vipd_native: bad call");

#define GET_SOCK(i)                                                           \
  vsock *s = arg_sock(env, argv[i]);                                          \
  if (!s) return throw_type(env, "vipd_native: not a socket handle");        \
  if (s->fd < 0) return throw_errno(env, "socket is closed", EBADF);

/* ---------- poll handling ---------- */

static void poll_closed(uv_handle_t *h) { free(h); }

static void poll_stop_and_free(vsock *s) {
  if (s->poll) {
    uv_poll_stop(s->poll);
    s->poll->data = NULL;
    uv_close((uv_handle_t *)s->poll, poll_closed);
    s->poll = NULL;
  }
  if (s->callback) {
    napi_delete_reference(s->env, s->callback);
    s->callback = NULL;
  }
  if (s->actx) {
    napi_async_destroy(s->env, s->actx);
    s->actx = NULL;
  }
}

static void sock_release(vsock *s) {
  if (!s) return;
  poll_stop_and_free(s);
  if (s->fd >= 0) close(s->fd);
  s->fd = -1;
  free(s);
}

static void on_poll(uv_poll_t *h, int status, int events) {
  vsock *s = (vsock *)h->data;
  if (!s || !s->callback) return;
  napi_env env = s->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value cb, global, args[2];
  if (napi_get_reference_value(env, s->callback, &cb) == napi_ok && cb) {
    napi_get_global(env, &global);
    napi_create_int32(env, status, &args[0]);
    napi_create_int32(env, events, &args[1]);
    napi_value result;
    /* napi_make_callback drains microtasks afterwards; exceptions go to 'uncaughtException'. */
    if (napi_make_callback(env, s->actx, global, cb, 2, args, &result) == napi_pending_exception) {
      napi_value exc;
      napi_get_and_clear_last_exception(env, &exc);
      napi_fatal_exception(env, exc);
    }
  }
  napi_close_handle_scope(env, scope);
}

/* ---------- exported calls ---------- */

/* socket(domain, type, protocol) -> handle; SOCK_NONBLOCK | SOCK_CLOEXEC always added. */
static napi_value js_socket(napi_env env, napi_callback_info info) {
  GET_ARGS(3);
  int32_t dom, type, proto;
  if (argc < 3 || !arg_int(env, argv[0], &dom) || !arg_int(env, argv[1], &type) || !arg_int(env, argv[2], &proto))
    return throw_type(env, "socket(domain, type, protocol): integers expected");
  int fd = socket(dom, type | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
  if (fd < 0) return throw_errno(env, "socket", errno);
  vsock *s = calloc(1, sizeof *s);
  if (!s) {
    close(fd);
    return throw_errno(env, "socket", ENOMEM);
  }
  s->fd = fd;
  s->env = env;
  napi_value ext;
  if (napi_create_external(env, s, sock_finalize, NULL, &ext) != napi_ok) {
    sock_release(s);
    return throw_errno(env, "socket", ENOMEM);
  }
  return ext;
}

/* close(handle): idempotent. */
static napi_value js_close(napi_env env, napi_callback_info info) {
  GET_ARGS(1);
  vsock *s = arg_sock(env, argv[0]);
  if (!s) return throw_type(env, "close(handle): socket handle expected");
  poll_stop_and_free(s);
  if (s->fd >= 0) close(s->fd);
  s->fd = -1;
  return undef(env);
}

static napi_value js_fd(napi_env env, napi_callback_info info) {
  GET_ARGS(1);
  vsock *s = arg_sock(env, argv[0]);
  if (!s) return throw_type(env, "fd(handle): socket handle expected");
  return int_value(env, s->fd);
}

/* bind(handle, sockaddr: Uint8Array) */
static napi_value js_bind(napi_env env, napi_callback_info info) {
  GET_ARGS(2);
  GET_SOCK(0);
  void *addr;
  size_t len;
  if (argc < 2 || !arg_bytes(env, argv[1], 0, &addr, &len)) return throw_type(env, "bind: sockaddr bytes expected");
  if (bind(s->fd, (struct sockaddr *)addr, (socklen_t)len) < 0) return throw_errno(env, "bind", errno);
  return undef(env);
}

/* getsockname(handle, out: Uint8Array) -> length */
static napi_value js_getsockname(napi_env env, napi_callback_info info) {
  GET_ARGS(2);
  GET_SOCK(0);
  void *addr;
  size_t len;
  if (argc < 2 || !arg_bytes(env, argv[1], 0, &addr, &len)) return throw_type(env, "getsockname: buffer expected");
  socklen_t sl = (socklen_t)len;
  if (getsockname(s->fd, (struct sockaddr *)addr, &sl) < 0) return throw_errno(env, "getsockname", errno);
  return int_value(env, sl);
}

/* setsockopt(handle, level, name, value: number | Uint8Array) */
static napi_value js_setsockopt(napi_env env, napi_callback_info info) {
  GET_ARGS(4);
  GET_SOCK(0);
  int32_t level, name;
  if (argc < 4 || !arg_int(env, argv[1], &level) || !arg_int(env, argv[2], &name))
    return throw_type(env, "setsockopt(handle, level, name, value)");
  napi_valuetype t;
  napi_typeof(env, argv[3], &t);
  int r;
  if (t == napi_number) {
    int32_t v;
    arg_int(env, argv[3], &v);
    int iv = v;
    r = setsockopt(s->fd, level, name, &iv, sizeof iv);
  } else {
    void *data;
    size_t len;
    if (!arg_bytes(env, argv[3], 0, &data, &len)) return throw_type(env, "setsockopt: value must be a number or bytes");
    r = setsockopt(s->fd, level, name, data, (socklen_t)len);
  }
  if (r < 0) {
    char what[64];
    snprintf(what, sizeof what, "setsockopt(%d, %d)", level, name);
    return throw_errno(env, what, errno);
  }
  return undef(env);
}

/* getsockopt(handle, level, name[, out: Uint8Array]) -> int value, or the length written into out */
static napi_value js_getsockopt(napi_env env, napi_callback_info info) {
  GET_ARGS(4);
  GET_SOCK(0);
  int32_t level, name;
  if (argc < 3 || !arg_int(env, argv[1], &level) || !arg_int(env, argv[2], &name))
    return throw_type(env, "getsockopt(handle, level, name[, buffer])");
  if (argc >= 4) {
    void *data;
    size_t len;
    if (!arg_bytes(env, argv[3], 0, &data, &len)) return throw_type(env, "getsockopt: buffer expected");
    socklen_t sl = (socklen_t)len;
    if (getsockopt(s->fd, level, name, data, &sl) < 0) return throw_errno(env, "getsockopt", errno);
    return int_value(env, sl);
  }
  int v = 0;
  socklen_t sl = sizeof v;
  if (getsockopt(s->fd, level, name, &v, &sl) < 0) return throw_errno(env, "getsockopt", errno);
  return int_value(env, v);
}

/* peerCred(fd: number) -> [pid, uid, gid] of the peer of a connected AF_UNIX socket (SO_PEERCRED).
 * Takes a plain fd (not a handle) so that it works on sockets owned by Node's net module (socket._handle.fd). */
static napi_value js_peer_cred(napi_env env, napi_callback_info info) {
  GET_ARGS(1);
  int32_t fd;
  if (argc < 1 || !arg_int(env, argv[0], &fd) || fd < 0) return throw_type(env, "peerCred(fd): fd expected");
  struct ucred cred;
  socklen_t sl = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &sl) < 0) return throw_errno(env, "getsockopt(SO_PEERCRED)", errno);
  napi_value arr, v;
  napi_create_array_with_length(env, 3, &arr);
  napi_create_int64(env, (int64_t)cred.pid, &v);
  napi_set_element(env, arr, 0, v);
  napi_create_int64(env, (int64_t)cred.uid, &v);
  napi_set_element(env, arr, 1, v);
  napi_create_int64(env, (int64_t)cred.gid, &v);
  napi_set_element(env, arr, 2, v);
  return arr;
}

/* ---------- signals ----------
 * signalWatch(signum, callback(signum)) -> handle: a libuv signal watcher for any signal number, including the
 * real-time ones Node cannot name (keepalived's JSON dump signal is SIGRTMIN+2). The watcher does not keep the
 * event loop alive. signalStop(handle) removes it (the default action of the signal applies again). */
typedef struct vsig {
  uv_signal_t h;
  napi_env env;
  napi_ref callback;
  napi_async_context actx;
  int active;
} vsig;

static void on_signal(uv_signal_t *h, int signum) {
  vsig *s = (vsig *)h->data;
  if (!s || !s->callback) return;
  napi_env env = s->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value cb, global, arg, result;
  if (napi_get_reference_value(env, s->callback, &cb) == napi_ok && cb) {
    napi_get_global(env, &global);
    napi_create_int32(env, signum, &arg);
    if (napi_make_callback(env, s->actx, global, cb, 1, &arg, &result) == napi_pending_exception) {
      napi_value exc;
      napi_get_and_clear_last_exception(env, &exc);
      napi_fatal_exception(env, exc);
    }
  }
  napi_close_handle_scope(env, scope);
}

static void on_signal_closed(uv_handle_t *h) { free(h->data); }

static napi_value js_signal_watch(napi_env env, napi_callback_info info) {
  GET_ARGS(2);
  int32_t signum;
  napi_valuetype t;
  if (argc < 2 || !arg_int(env, argv[0], &signum) || napi_typeof(env, argv[1], &t) != napi_ok || t != napi_function)
    return throw_type(env, "signalWatch(signum, callback)");
  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) return throw_errno(env, "signalWatch", EINVAL);
  vsig *s = calloc(1, sizeof *s);
  if (!s) return throw_errno(env, "signalWatch", ENOMEM);
  int r = uv_signal_init(loop, &s->h);
  if (r < 0) {
    free(s);
    return throw_errno(env, "uv_signal_init", -r);
  }
  s->h.data = s;
  s->env = env;
  r = uv_signal_start(&s->h, on_signal, signum);
  if (r < 0) {
    uv_close((uv_handle_t *)&s->h, on_signal_closed);
    return throw_errno(env, "uv_signal_start", -r);
  }
  uv_unref((uv_handle_t *)&s->h);
  s->active = 1;
  napi_value name;
  napi_create_string_utf8(env, "vipd_native.signal", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &s->actx);
  napi_create_reference(env, argv[1], 1, &s->callback);
  napi_value ext;
  napi_create_external(env, s, NULL, NULL, &ext);
  return ext;
}

static napi_value js_signal_stop(napi_env env, napi_callback_info info) {
  GET_ARGS(1);
  void *p = NULL;
  napi_valuetype t;
  if (argc < 1 || napi_typeof(env, argv[0], &t) != napi_ok || t != napi_external ||
      napi_get_value_external(env, argv[0], &p) != napi_ok || !p)
    return throw_type(env, "signalStop(handle)");
  vsig *s = (vsig *)p;
  if (!s->active) return undef(env);
  s->active = 0;
  uv_signal_stop(&s->h);
  if (s->callback) napi_delete_reference(env, s->callback);
  s->callback = NULL;
  if (s->actx) napi_async_destroy(env, s->actx);
  s->actx = NULL;
  uv_close((uv_handle_t *)&s->h, on_signal_closed);
  return undef(env);
}

/* sendmsg(handle, data, addr|null, control|null, flags) -> bytes sent, or -errno */
static napi_value js_sendmsg(napi_env env, napi_callback_info info) {
  GET_ARGS(5);
  GET_SOCK(0);
  void *data, *addr, *ctl;
  size_t dlen, alen, clen;
  int32_t flags = 0;
  if (argc < 2 || !arg_bytes(env, argv[1], 0, &data, &dlen)) return throw_type(env, "sendmsg: data bytes expected");
  /* Missing trailing arguments arrive as undefined (napi_get_cb_info fills them). */
  if (!arg_bytes(env, argv[2], 1, &addr, &alen)) return throw_type(env, "sendmsg: bad address");
  if (!arg_bytes(env, argv[3], 1, &ctl, &clen)) return throw_type(env, "sendmsg: bad control");
  arg_int(env, argv[4], &flags);
  struct iovec iov = {data, dlen};
  struct msghdr mh;
  memset(&mh, 0, sizeof mh);
  mh.msg_name = alen ? addr : NULL;
  mh.msg_namelen = (socklen_t)alen;
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = clen ? ctl : NULL;
  mh.msg_controllen = clen;
  ssize_t n;
  do n = sendmsg(s->fd, &mh, flags | MSG_DONTWAIT | MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return int_value(env, n < 0 ? -errno : n);
}

/*
 * recvmsg(handle, data, addr|null, control|null, flags, out: Int32Array(3)) -> data length, or -errno
 * out[0] = source address length, out[1] = control length, out[2] = msg_flags (MSG_TRUNC, MSG_CTRUNC).
 * With MSG_TRUNC in flags the return value is the full datagram length even when it did not fit.
 */
static napi_value js_recvmsg(napi_env env, napi_callback_info info) {
  GET_ARGS(6);
  GET_SOCK(0);
  void *data, *addr, *ctl, *outp;
  size_t dlen, alen, clen, olen;
  int32_t flags = 0;
  if (argc < 6 || !arg_bytes(env, argv[1], 0, &data, &dlen) || !arg_bytes(env, argv[2], 1, &addr, &alen) ||
      !arg_bytes(env, argv[3], 1, &ctl, &clen) || !arg_int(env, argv[4], &flags) ||
      !arg_bytes(env, argv[5], 0, &outp, &olen) || olen < 12)
    return throw_type(env, "recvmsg(handle, data, addr, control, flags, out Int32Array(3))");
  struct iovec iov = {data, dlen};
  struct msghdr mh;
  memset(&mh, 0, sizeof mh);
  mh.msg_name = alen ? addr : NULL;
  mh.msg_namelen = (socklen_t)alen;
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = clen ? ctl : NULL;
  mh.msg_controllen = clen;
  ssize_t n;
  do n = recvmsg(s->fd, &mh, flags | MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  int32_t *out = (int32_t *)outp;
  if (n < 0) {
    out[0] = out[1] = out[2] = 0;
    return int_value(env, -errno);
  }
  out[0] = (int32_t)mh.msg_namelen;
  out[1] = (int32_t)mh.msg_controllen;
  out[2] = mh.msg_flags;
  return int_value(env, n);
}

/* poll(handle, events, callback(status, events)): start or change readiness notifications. */
static napi_value js_poll(napi_env env, napi_callback_info info) {
  GET_ARGS(3);
  GET_SOCK(0);
  int32_t events;
  napi_valuetype t;
  if (argc < 3 || !arg_int(env, argv[1], &events) || napi_typeof(env, argv[2], &t) != napi_ok || t != napi_function)
    return throw_type(env, "poll(handle, events, callback)");
  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) return throw_errno(env, "poll", EINVAL);
  if (!s->poll) {
    s->poll = malloc(sizeof *s->poll);
    if (!s->poll) return throw_errno(env, "poll", ENOMEM);
    int r = uv_poll_init_socket(loop, s->poll, s->fd);
    if (r < 0) {
      free(s->poll);
      s->poll = NULL;
      return throw_errno(env, "uv_poll_init", -r);
    }
    s->poll->data = s;
  }
  if (!s->actx) {
    napi_value name;
    napi_create_string_utf8(env, "vipd_native.poll", NAPI_AUTO_LENGTH, &name);
    napi_async_init(env, NULL, name, &s->actx);
  }
  if (s->callback) napi_delete_reference(env, s->callback);
  s->callback = NULL;
  napi_create_reference(env, argv[2], 1, &s->callback);
  int r = uv_poll_start(s->poll, events, on_poll);
  if (r < 0) return throw_errno(env, "uv_poll_start", -r);
  return undef(env);
}

/* pollStop(handle): stop notifications (the handle stays usable). */
static napi_value js_poll_stop(napi_env env, napi_callback_info info) {
  GET_ARGS(1);
  vsock *s = arg_sock(env, argv[0]);
  if (!s) return throw_type(env, "pollStop(handle): socket handle expected");
  poll_stop_and_free(s);
  return undef(env);
}

/* pollRef(handle, ref: boolean): whether the poll handle keeps the event loop alive. */
static napi_value js_poll_ref(napi_env env, napi_callback_info info) {
  GET_ARGS(2);
  vsock *s = arg_sock(env, argv[0]);
  bool ref = true;
  if (!s || argc < 2 || napi_get_value_bool(env, argv[1], &ref) != napi_ok)
    return throw_type(env, "pollRef(handle, boolean)");
  if (s->poll) {
    if (ref) uv_ref((uv_handle_t *)s->poll);
    else uv_unref((uv_handle_t *)s->poll);
  }
  return undef(env);
}

static napi_value js_if_nametoindex(napi_env env, napi_callback_info info) {
  GET_ARGS(1);
  char name[64];
  size_t len = 0;
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len) != napi_ok)
    return throw_type(env, "ifNameToIndex(name: string)");
  if (len >= IF_NAMESIZE) return int_value(env, 0);
  unsigned idx = if_nametoindex(name);
  return int_value(env, idx);
}

static napi_value js_if_indextoname(napi_env env, napi_callback_info info) {
  GET_ARGS(1);
  int32_t idx;
  if (argc < 1 || !arg_int(env, argv[0], &idx)) return throw_type(env, "ifIndexToName(index: number)");
  char name[IF_NAMESIZE];
  napi_value r;
  if (idx <= 0 || !if_indextoname((unsigned)idx, name)) napi_get_null(env, &r);
  else napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &r);
  return r;
}

/* setScheduler(policy, priority): for the calling process (0 = self). */
static napi_value js_sched(napi_env env, napi_callback_info info) {
  GET_ARGS(2);
  int32_t policy, prio;
  if (argc < 2 || !arg_int(env, argv[0], &policy) || !arg_int(env, argv[1], &prio))
    return throw_type(env, "setScheduler(policy, priority)");
  struct sched_param sp;
  memset(&sp, 0, sizeof sp);
  sp.sched_priority = prio;
  if (sched_setscheduler(0, policy, &sp) < 0) return throw_errno(env, "sched_setscheduler", errno);
  return undef(env);
}

static napi_value js_mlockall(napi_env env, napi_callback_info info) {
  GET_ARGS(1);
  int32_t flags;
  if (argc < 1 || !arg_int(env, argv[0], &flags)) return throw_type(env, "mlockall(flags)");
  if (mlockall(flags) < 0) return throw_errno(env, "mlockall", errno);
  return undef(env);
}

static napi_value js_munlockall(napi_env env, napi_callback_info info) {
  (void)info;
  if (munlockall() < 0) return throw_errno(env, "munlockall", errno);
  return undef(env);
}

static napi_value js_errno_name(napi_env env, napi_callback_info info) {
  GET_ARGS(1);
  int32_t e;
  if (argc < 1 || !arg_int(env, argv[0], &e)) return throw_type(env, "errnoName(number)");
  if (e < 0) e = -e;
  napi_value r;
  napi_create_string_utf8(env, errno_name(e), NAPI_AUTO_LENGTH, &r);
  return r;
}

static napi_value js_strerror(napi_env env, napi_callback_info info) {
  GET_ARGS(1);
  int32_t e;
  if (argc < 1 || !arg_int(env, argv[0], &e)) return throw_type(env, "strerror(number)");
  if (e < 0) e = -e;
  napi_value r;
  napi_create_string_utf8(env, strerror(e), NAPI_AUTO_LENGTH, &r);
  return r;
}

/* ---------- module ---------- */

static void set_int(napi_env env, napi_value obj, const char *name, int64_t v) {
  napi_value n;
  napi_create_int64(env, v, &n);
  napi_set_named_property(env, obj, name, n);
}

static void set_fn(napi_env env, napi_value obj, const char *name, napi_callback cb) {
  napi_value f;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, NULL, &f);
  napi_set_named_property(env, obj, name, f);
}

#ifndef IP_MULTICAST_ALL
#define IP_MULTICAST_ALL 49
#endif
#ifndef IPV6_MULTICAST_ALL
#define IPV6_MULTICAST_ALL 29
#endif
#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_GET_STRICT_CHK
#define NETLINK_GET_STRICT_CHK 12
#endif

static napi_value init(napi_env env, napi_value exports) {
  set_fn(env, exports, "socket", js_socket);
  set_fn(env, exports, "close", js_close);
  set_fn(env, exports, "fd", js_fd);
  set_fn(env, exports, "bind", js_bind);
  set_fn(env, exports, "getsockname", js_getsockname);
  set_fn(env, exports, "setsockopt", js_setsockopt);
  set_fn(env, exports, "getsockopt", js_getsockopt);
  set_fn(env, exports, "peerCred", js_peer_cred);
  set_fn(env, exports, "signalWatch", js_signal_watch);
  set_fn(env, exports, "signalStop", js_signal_stop);
  set_fn(env, exports, "sendmsg", js_sendmsg);
  set_fn(env, exports, "recvmsg", js_recvmsg);
  set_fn(env, exports, "poll", js_poll);
  set_fn(env, exports, "pollStop", js_poll_stop);
  set_fn(env, exports, "pollRef", js_poll_ref);
  set_fn(env, exports, "ifNameToIndex", js_if_nametoindex);
  set_fn(env, exports, "ifIndexToName", js_if_indextoname);
  set_fn(env, exports, "setScheduler", js_sched);
  set_fn(env, exports, "mlockall", js_mlockall);
  set_fn(env, exports, "munlockall", js_munlockall);
  set_fn(env, exports, "errnoName", js_errno_name);
  set_fn(env, exports, "strerror", js_strerror);

  napi_value c;
  napi_create_object(env, &c);
#define K(x) set_int(env, c, #x, (int64_t)(x));
  K(AF_INET) K(AF_INET6) K(AF_PACKET) K(AF_NETLINK) K(AF_UNSPEC)
  K(SOCK_RAW) K(SOCK_DGRAM)
  set_int(env, c, "SIGRTMIN", (int64_t)SIGRTMIN);
  K(IPPROTO_IP) K(IPPROTO_IPV6) K(IPPROTO_ICMPV6) K(IPPROTO_RAW)
  K(SOL_SOCKET) K(SO_RCVBUF) K(SO_RCVBUFFORCE) K(SO_SNDBUF) K(SO_BINDTODEVICE) K(SO_PRIORITY) K(SO_ATTACH_FILTER)
  K(SO_TIMESTAMPNS) K(SO_REUSEADDR)
  K(IP_PKTINFO) K(IP_TTL) K(IP_RECVTTL) K(IP_MULTICAST_IF) K(IP_MULTICAST_TTL) K(IP_MULTICAST_LOOP)
  K(IP_ADD_MEMBERSHIP) K(IP_DROP_MEMBERSHIP) K(IP_MULTICAST_ALL) K(IP_HDRINCL) K(IP_TOS)
  K(IPV6_PKTINFO) K(IPV6_RECVPKTINFO) K(IPV6_HOPLIMIT) K(IPV6_RECVHOPLIMIT) K(IPV6_UNICAST_HOPS)
  K(IPV6_MULTICAST_HOPS) K(IPV6_MULTICAST_IF) K(IPV6_MULTICAST_LOOP) K(IPV6_ADD_MEMBERSHIP)
  K(IPV6_DROP_MEMBERSHIP) K(IPV6_MULTICAST_ALL) K(IPV6_CHECKSUM) K(IPV6_V6ONLY) K(IPV6_TCLASS)
  K(SOL_PACKET) K(PACKET_ADD_MEMBERSHIP) K(ETH_P_ALL) K(ETH_P_ARP) K(ETH_P_IP) K(ETH_P_IPV6)
  K(SOL_NETLINK) K(NETLINK_ROUTE) K(NETLINK_ADD_MEMBERSHIP) K(NETLINK_DROP_MEMBERSHIP) K(NETLINK_NO_ENOBUFS)
  K(NETLINK_EXT_ACK) K(NETLINK_GET_STRICT_CHK) K(NETLINK_CAP_ACK)
  K(MSG_TRUNC) K(MSG_CTRUNC) K(MSG_PEEK) K(MSG_DONTWAIT)
  K(SCHED_FIFO) K(SCHED_RR) K(SCHED_OTHER) K(MCL_CURRENT) K(MCL_FUTURE) K(MCL_ONFAULT)
  K(UV_READABLE) K(UV_WRITABLE)
  K(EAGAIN) K(ENOBUFS) K(EINTR)
  K(IF_NAMESIZE)
#undef K
  /* ABI sizes and alignment for control messages and socket structures. */
  set_int(env, c, "SIZEOF_CMSGHDR", sizeof(struct cmsghdr));
  set_int(env, c, "CMSG_ALIGN", sizeof(size_t));
  set_int(env, c, "CMSG_LEN_0", CMSG_LEN(0));
  set_int(env, c, "CMSG_SPACE_INT", CMSG_SPACE(sizeof(int)));
  set_int(env, c, "SIZEOF_IN_PKTINFO", sizeof(struct in_pktinfo));
  set_int(env, c, "SIZEOF_IN6_PKTINFO", sizeof(struct in6_pktinfo));
  set_int(env, c, "SIZEOF_IP_MREQN", sizeof(struct ip_mreqn));
  set_int(env, c, "SIZEOF_IPV6_MREQ", sizeof(struct ipv6_mreq));
  set_int(env, c, "SIZEOF_SOCKADDR_IN", sizeof(struct sockaddr_in));
  set_int(env, c, "SIZEOF_SOCKADDR_IN6", sizeof(struct sockaddr_in6));
  set_int(env, c, "SIZEOF_SOCKADDR_LL", sizeof(struct sockaddr_ll));
  set_int(env, c, "SIZEOF_SOCKADDR_NL", sizeof(struct sockaddr_nl));
  set_int(env, c, "SIZEOF_SOCKADDR_STORAGE", sizeof(struct sockaddr_storage));
  set_int(env, c, "SIZEOF_PACKET_MREQ", sizeof(struct packet_mreq));
  napi_set_named_property(env, exports, "constants", c);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
