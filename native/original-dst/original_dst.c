// originalDestination(fd): the address a redirected TCP connection was sent to before iptables
// REDIRECT (nat table) rewrote it to the sidecar's outbound listener. Linux only: the value lives
// in the conntrack entry, read back with getsockopt(SO_ORIGINAL_DST) for IPv4 and
// getsockopt(IP6T_SO_ORIGINAL_DST) for IPv6, as Envoy's original_dst listener filter does
// (`Utility::getOriginalDst` in envoyproxy/envoy:source/common/network/utility.cc).
//
// Plain C on node_api.h so it builds with only Node's own headers (no node-addon-api download);
// uv.h (also shipped with those headers) names errnos exactly as Node's own errors do.
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <netinet/in.h>
#include <node_api.h>
#include <string.h>
#include <sys/socket.h>
#include <uv.h>

// A failed N-API call leaves a pending exception (or is a bug in this file); return so it surfaces.
#define CHECK(env, call)                      \
  do {                                        \
    if ((call) != napi_ok) return NULL;       \
  } while (0)

// Throws an Error shaped like Node's system errors (fs, net): code 'ENOENT', errno -2,
// syscall 'getsockopt', message "ENOENT: no such file or directory, getsockopt SO_ORIGINAL_DST".
static napi_value throw_errno(napi_env env, int err, const char *syscall, const char *detail) {
  char message[256];
  const char *name = uv_err_name(-err);
  snprintf(message, sizeof message, "%s: %s, %s %s", name, uv_strerror(-err), syscall, detail);
  napi_value code_value, message_value, error, errno_value, syscall_value;
  CHECK(env, napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code_value));
  CHECK(env, napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &message_value));
  CHECK(env, napi_create_error(env, code_value, message_value, &error));
  CHECK(env, napi_create_int32(env, -err, &errno_value));
  CHECK(env, napi_set_named_property(env, error, "errno", errno_value));
  CHECK(env, napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &syscall_value));
  CHECK(env, napi_set_named_property(env, error, "syscall", syscall_value));
  napi_throw(env, error);
  return NULL;
}

static napi_value make_result(napi_env env, const char *address, int port, int family) {
  napi_value result, address_value, port_value, family_value;
  CHECK(env, napi_create_object(env, &result));
  CHECK(env, napi_create_string_utf8(env, address, NAPI_AUTO_LENGTH, &address_value));
  CHECK(env, napi_create_int32(env, port, &port_value));
  CHECK(env, napi_create_int32(env, family, &family_value));
  CHECK(env, napi_set_named_property(env, result, "address", address_value));
  CHECK(env, napi_set_named_property(env, result, "port", port_value));
  CHECK(env, napi_set_named_property(env, result, "family", family_value));
  return result;
}

static napi_value from_ipv4(napi_env env, int fd) {
  struct sockaddr_in dst;
  socklen_t len = sizeof dst;
  memset(&dst, 0, sizeof dst);
  if (getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &dst, &len) != 0) {
    return throw_errno(env, errno, "getsockopt", "SO_ORIGINAL_DST");
  }
  char text[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &dst.sin_addr, text, sizeof text);
  return make_result(env, text, ntohs(dst.sin_port), 4);
}

static napi_value from_ipv6(napi_env env, int fd) {
  struct sockaddr_in6 dst;
  socklen_t len = sizeof dst;
  memset(&dst, 0, sizeof dst);
  if (getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &dst, &len) != 0) {
    return throw_errno(env, errno, "getsockopt", "IP6T_SO_ORIGINAL_DST");
  }
  char text[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, &dst.sin6_addr, text, sizeof text);
  return make_result(env, text, ntohs(dst.sin6_port), 6);
}

static napi_value original_destination(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  double fd_number = -1;
  napi_valuetype type = napi_undefined;
  if (argc >= 1) CHECK(env, napi_typeof(env, argv[0], &type));
  if (type == napi_number) CHECK(env, napi_get_value_double(env, argv[0], &fd_number));
  if (type != napi_number || fd_number < 0 || fd_number > INT_MAX || fd_number != (double)(int)fd_number) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "originalDestination: fd must be a file descriptor (an integer >= 0)");
    return NULL;
  }
  int fd = (int)fd_number;

  // The family of the accepted socket picks the table. A dual-stack listener (::) accepts IPv4
  // clients as IPv4-mapped IPv6 sockets; their NAT entry is IPv4, and SOL_IP on such a socket
  // reaches the IPv4 conntrack lookup (Linux's ipv6_mapped af_ops), so they go the IPv4 way.
  struct sockaddr_storage local;
  socklen_t local_len = sizeof local;
  if (getsockname(fd, (struct sockaddr *)&local, &local_len) != 0) {
    return throw_errno(env, errno, "getsockname", "for SO_ORIGINAL_DST");
  }
  if (local.ss_family == AF_INET) return from_ipv4(env, fd);
  if (local.ss_family == AF_INET6) {
    const struct sockaddr_in6 *local6 = (const struct sockaddr_in6 *)&local;
    return IN6_IS_ADDR_V4MAPPED(&local6->sin6_addr) ? from_ipv4(env, fd) : from_ipv6(env, fd);
  }
  return throw_errno(env, EAFNOSUPPORT, "getsockname", "for SO_ORIGINAL_DST (not an IPv4 or IPv6 socket)");
}

NAPI_MODULE_INIT() {
  napi_value fn;
  CHECK(env, napi_create_function(env, "originalDestination", NAPI_AUTO_LENGTH, original_destination, NULL, &fn));
  CHECK(env, napi_set_named_property(env, exports, "originalDestination", fn));
  return exports;
}
