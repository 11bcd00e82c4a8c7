#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <stdio.h>
#include <string.h>

/* Small helpers for what Swift cannot reach in rabbitmq-c 0.11: the variadic login, method ids
   (cast macros), and the unions of frames and field values. */

enum {
    RCM_AMQP_BASIC_ACK = AMQP_BASIC_ACK_METHOD,
    RCM_AMQP_BASIC_NACK = AMQP_BASIC_NACK_METHOD,
    RCM_AMQP_BASIC_RETURN = AMQP_BASIC_RETURN_METHOD,
    RCM_AMQP_BASIC_CANCEL = AMQP_BASIC_CANCEL_METHOD,
    RCM_AMQP_CHANNEL_CLOSE = AMQP_CHANNEL_CLOSE_METHOD,
    RCM_AMQP_CONNECTION_CLOSE = AMQP_CONNECTION_CLOSE_METHOD,
};

/* amqp_login with the PLAIN mechanism (amqp_login is variadic). */
static inline amqp_rpc_reply_t rcm_amqp_login_plain(amqp_connection_state_t state, const char *vhost,
                                                    int frame_max, int heartbeat, const char *user,
                                                    const char *password) {
    return amqp_login(state, vhost, 0, frame_max, heartbeat, AMQP_SASL_METHOD_PLAIN, user, password);
}

/* A readable line for a method the broker sent (connection.close, channel.close, others). */
static inline void rcm_amqp_describe_method(amqp_method_t method, char *buffer, size_t size) {
    if (method.id == AMQP_CONNECTION_CLOSE_METHOD && method.decoded) {
        amqp_connection_close_t *close = (amqp_connection_close_t *)method.decoded;
        snprintf(buffer, size, "connection closed by the broker: %u %.*s", close->reply_code,
                 (int)close->reply_text.len, (const char *)close->reply_text.bytes);
    } else if (method.id == AMQP_CHANNEL_CLOSE_METHOD && method.decoded) {
        amqp_channel_close_t *close = (amqp_channel_close_t *)method.decoded;
        snprintf(buffer, size, "channel closed by the broker: %u %.*s", close->reply_code,
                 (int)close->reply_text.len, (const char *)close->reply_text.bytes);
    } else {
        snprintf(buffer, size, "unexpected method 0x%08x from the broker", method.id);
    }
}

/* A readable line for the outcome of an RPC. */
static inline void rcm_amqp_describe_reply(amqp_rpc_reply_t reply, char *buffer, size_t size) {
    switch (reply.reply_type) {
    case AMQP_RESPONSE_NORMAL:
        snprintf(buffer, size, "ok");
        break;
    case AMQP_RESPONSE_NONE:
        snprintf(buffer, size, "no reply from the broker");
        break;
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
        snprintf(buffer, size, "%s", amqp_error_string2(reply.library_error));
        break;
    case AMQP_RESPONSE_SERVER_EXCEPTION:
        rcm_amqp_describe_method(reply.reply, buffer, size);
        break;
    }
}

/* The method id of a method frame, 0 for other frames. */
static inline uint32_t rcm_amqp_frame_method(const amqp_frame_t *frame) {
    return frame->frame_type == AMQP_FRAME_METHOD ? frame->payload.method.id : 0;
}

static inline amqp_method_t rcm_amqp_frame_method_body(const amqp_frame_t *frame) {
    return frame->payload.method;
}

/* Delivery tag and `multiple` of a basic.ack or basic.nack frame. */
static inline void rcm_amqp_frame_confirm(const amqp_frame_t *frame, uint64_t *tag, int *multiple) {
    if (frame->payload.method.id == AMQP_BASIC_ACK_METHOD) {
        amqp_basic_ack_t *ack = (amqp_basic_ack_t *)frame->payload.method.decoded;
        *tag = ack->delivery_tag;
        *multiple = ack->multiple;
    } else {
        amqp_basic_nack_t *nack = (amqp_basic_nack_t *)frame->payload.method.decoded;
        *tag = nack->delivery_tag;
        *multiple = nack->multiple;
    }
}

/* Field-table entries. */
static inline void rcm_amqp_entry_string(amqp_table_entry_t *entry, amqp_bytes_t key, amqp_bytes_t value) {
    entry->key = key;
    entry->value.kind = AMQP_FIELD_KIND_UTF8;
    entry->value.value.bytes = value;
}

static inline void rcm_amqp_entry_int(amqp_table_entry_t *entry, amqp_bytes_t key, int64_t value) {
    entry->key = key;
    entry->value.kind = AMQP_FIELD_KIND_I64;
    entry->value.value.i64 = value;
}
