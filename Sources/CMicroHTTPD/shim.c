#include "CMicroHTTPD.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

struct MHD_Daemon *rcm_mhd_start(const rcm_mhd_config *config,
                                 MHD_AccessHandlerCallback handler, void *handler_cls,
                                 MHD_RequestCompletedCallback completed, void *completed_cls) {
    struct sockaddr_in address;
    memset(&address, 0, sizeof(address));
    address.sin_family = AF_INET;
    address.sin_port = htons(config->port);
    if (inet_pton(AF_INET, config->host, &address.sin_addr) != 1) {
        return NULL;
    }
    /* TURBO: fewer system calls per request (no extra shutdown()/fcntl() checks). */
    unsigned int flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG | MHD_USE_TURBO;
    /* TLS 1.2 and 1.3 only, through GnuTLS, when a key and certificate are given. */
    struct MHD_OptionItem tls[] = {
        {MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)config->tls_key_pem},
        {MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)config->tls_cert_pem},
        {MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"},
        {MHD_OPTION_END, 0, NULL},
    };
    int use_tls = config->tls_key_pem && config->tls_cert_pem;
    if (use_tls) flags |= MHD_USE_TLS;
    return MHD_start_daemon(
        flags, config->port, NULL, NULL, handler, handler_cls,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&address,
        MHD_OPTION_ARRAY, use_tls ? tls : &tls[3],
        MHD_OPTION_THREAD_POOL_SIZE, config->threads,
        MHD_OPTION_CONNECTION_LIMIT, config->connection_limit,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, config->per_ip_connection_limit,
        MHD_OPTION_CONNECTION_TIMEOUT, config->connection_timeout_seconds,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, config->connection_memory_limit,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, config->listen_backlog,
        MHD_OPTION_NOTIFY_COMPLETED, completed, completed_cls,
        MHD_OPTION_END);
}

uint16_t rcm_mhd_bound_port(struct MHD_Daemon *daemon) {
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info ? info->port : 0;
}

void rcm_mhd_client_address(struct MHD_Connection *connection, char *buffer, size_t size) {
    buffer[0] = 0;
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!info || !info->client_addr) return;
    const struct sockaddr *sa = info->client_addr;
    if (sa->sa_family == AF_INET && size >= 16) {
        /* Dotted quad written by hand: inet_ntop formats through sprintf, on every request. */
        const unsigned char *octets = (const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr;
        char *out = buffer;
        for (int i = 0; i < 4; i++) {
            unsigned int value = octets[i];
            if (value >= 100) *out++ = (char)('0' + value / 100);
            if (value >= 10) *out++ = (char)('0' + value / 10 % 10);
            *out++ = (char)('0' + value % 10);
            *out++ = i < 3 ? '.' : 0;
        }
    } else if (sa->sa_family == AF_INET6) {
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, buffer, (socklen_t)size);
    }
}
