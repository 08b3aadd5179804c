// The original destination of a connection that netfilter's nat table redirected (REDIRECT) to
// this process: getsockopt(SO_ORIGINAL_DST) for IPv4, getsockopt(IP6T_SO_ORIGINAL_DST) for IPv6.
// Node exposes neither, so this is the one native piece of the service mesh. Node-API only (ABI
// stable across Node versions); no libuv or V8 headers.
//
// originalDestination(fd) -> { family: 4 | 6, address: string, port: number }
// Errors are thrown as Error objects whose `code` is the errno name ("ENOENT": the connection has
// no NAT mapping, i.e. it was not redirected; "ENOPROTOOPT": conntrack is not loaded; ...) and
// whose `errno` is the number.

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <node_api.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

// From <linux/netfilter_ipv4.h> and <linux/netfilter_ipv6/ip6_tables.h>; both are 80. Defined
// here so the addon builds without the kernel headers package.
#ifndef SO_ORIGINAL_DST
#define SO_ORIGINAL_DST 80
#endif
#ifndef IP6T_SO_ORIGINAL_DST
#define IP6T_SO_ORIGINAL_DST 80
#endif

static const char *errno_name(int err) {
  switch (err) {
    case ENOENT: return "ENOENT";
    case ENOPROTOOPT: return "ENOPROTOOPT";
    case EBADF: return "EBADF";
    case ENOTSOCK: return "ENOTSOCK";
    case ENOTCONN: return "ENOTCONN";
    case EINVAL: return "EINVAL";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EPERM: return "EPERM";
    default: return "EUNKNOWN";
  }
}

static napi_value throw_errno(napi_env env, const char *syscall, int err) {
  napi_value message, code, error, number, call;
  char text[160];
  snprintf(text, sizeof text, "%s: %s", syscall, strerror(err));
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &message);
  napi_create_string_utf8(env, errno_name(err), NAPI_AUTO_LENGTH, &code);
  napi_create_error(env, code, message, &error);
  napi_create_int32(env, err, &number);
  napi_set_named_property(env, error, "errno", number);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &call);
  napi_set_named_property(env, error, "syscall", call);
  napi_throw(env, error);
  return NULL;
}

static napi_value result(napi_env env, int family, const char *address, unsigned port) {
  napi_value object, value;
  napi_create_object(env, &object);
  napi_create_int32(env, family, &value);
  napi_set_named_property(env, object, "family", value);
  napi_create_string_utf8(env, address, NAPI_AUTO_LENGTH, &value);
  napi_set_named_property(env, object, "address", value);
  napi_create_uint32(env, port, &value);
  napi_set_named_property(env, object, "port", value);
  return object;
}

static napi_value original_destination(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok) {
    napi_throw_type_error(env, "EINVAL", "originalDestination(fd): fd must be an integer");
    return NULL;
  }

  // The local address tells the family: an IPv6 socket carrying IPv4 (a v4-mapped address, as
  // when a server listens on "::") has its NAT mapping in the IPv4 conntrack table.
  struct sockaddr_storage local;
  socklen_t local_len = sizeof local;
  if (getsockname(fd, (struct sockaddr *)&local, &local_len) != 0) return throw_errno(env, "getsockname", errno);

  int v6 = local.ss_family == AF_INET6 &&
           !IN6_IS_ADDR_V4MAPPED(&((struct sockaddr_in6 *)&local)->sin6_addr);
  if (local.ss_family != AF_INET && local.ss_family != AF_INET6) return throw_errno(env, "getsockname", EAFNOSUPPORT);

  char text[INET6_ADDRSTRLEN];
  if (v6) {
    struct sockaddr_in6 dst;
    socklen_t len = sizeof dst;
    memset(&dst, 0, sizeof dst);
    if (getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &dst, &len) != 0)
      return throw_errno(env, "getsockopt(IP6T_SO_ORIGINAL_DST)", errno);
    inet_ntop(AF_INET6, &dst.sin6_addr, text, sizeof text);
    return result(env, 6, text, ntohs(dst.sin6_port));
  }
  struct sockaddr_in dst;
  socklen_t len = sizeof dst;
  memset(&dst, 0, sizeof dst);
  if (getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &dst, &len) != 0)
    return throw_errno(env, "getsockopt(SO_ORIGINAL_DST)", errno);
  inet_ntop(AF_INET, &dst.sin_addr, text, sizeof text);
  return result(env, 4, text, ntohs(dst.sin_port));
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "originalDestination", NAPI_AUTO_LENGTH, original_destination, NULL, &fn);
  napi_set_named_property(env, exports, "originalDestination", fn);
  return exports;
}
