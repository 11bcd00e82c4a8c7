#ifndef RCM_CMICROHTTPD_H
#define RCM_CMICROHTTPD_H
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <microhttpd.h>

/// Limits and threading for one libmicrohttpd daemon (see shared/notes/libmicrohttpd.md).
typedef struct rcm_mhd_config {
    const char *host;              /* IPv4 literal to bind, e.g. "127.0.0.1" or "0.0.0.0" */
    uint16_t port;                 /* 0 picks a free port */
    unsigned int threads;          /* size of the thread pool */
    unsigned int connection_limit;
    unsigned int per_ip_connection_limit; /* 0 = none */
    unsigned int connection_timeout_seconds;
    size_t connection_memory_limit; /* bounds the header buffer per connection */
    unsigned int listen_backlog;
    const char *tls_key_pem;       /* NULL: plain HTTP; else PEM private key (with tls_cert_pem) */
    const char *tls_cert_pem;      /* PEM certificate chain */
} rcm_mhd_config;

/// Starts a daemon (epoll, internal thread pool, inter-thread channel so it can be quiesced).
/// `MHD_start_daemon` is variadic and cannot be called from Swift, hence this shim.
struct MHD_Daemon *rcm_mhd_start(const rcm_mhd_config *config,
                                 MHD_AccessHandlerCallback handler, void *handler_cls,
                                 MHD_RequestCompletedCallback completed, void *completed_cls);

/// The port the daemon listens on (useful when started on port 0).
uint16_t rcm_mhd_bound_port(struct MHD_Daemon *daemon);

/// The client's IPv4/IPv6 address as text, written into `buffer`; empty when unknown.
void rcm_mhd_client_address(struct MHD_Connection *connection, char *buffer, size_t size);

#endif
