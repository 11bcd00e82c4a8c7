import CRabbitMQ
import Foundation

/// One AMQP connection with one channel (number 1). Not thread-safe: each thread owns its own.
/// Any error leaves it `broken`; the owner drops it and connects again later.
final class AMQPConnection {
    let settings: RabbitMQSettings
    private let state: amqp_connection_state_t
    private let channel: amqp_channel_t = 1
    private(set) var broken = false
    private var opened = false
    /// Delivery tag of the next publish once confirms are on (they count from 1 per channel).
    private(set) var nextPublishTag: UInt64 = 1
    /// Queues declared on this connection (declaring is idempotent; once per connection is enough).
    private var declaredQueues: Set<String> = []

    /// Connects, logs in and opens channel 1; declares the exchanges and the dead-letter queue.
    init(settings: RabbitMQSettings, heartbeat: Int32) throws {
        self.settings = settings
        guard let state = amqp_new_connection() else { throw RabbitMQError("out of memory") }
        self.state = state
        // From here on, a throw runs deinit, which destroys the state.
        guard let socket = amqp_tcp_socket_new(state) else { throw RabbitMQError("cannot make a socket") }
        var timeout = AMQPConnection.timeval(settings.connectTimeout)
        let status = amqp_socket_open_noblock(socket, settings.host, settings.port, &timeout)
        guard status == AMQP_STATUS_OK.rawValue else {
            throw RabbitMQError(
                "cannot connect to \(settings.host):\(settings.port): \(String(cString: amqp_error_string2(status)))")
        }
        opened = true
        do {
            var rpcTimeout = AMQPConnection.timeval(max(settings.confirmTimeout, settings.connectTimeout))
            _ = amqp_set_rpc_timeout(state, &rpcTimeout)
            _ = amqp_set_handshake_timeout(state, &timeout)
            try check(
                rcm_amqp_login_plain(
                    state, settings.virtualHost, Int32(AMQP_DEFAULT_FRAME_SIZE), heartbeat, settings.user,
                    settings.password), "login")
            _ = amqp_channel_open(state, channel)
            try checkLastReply("channel.open")
            try declareExchanges()
        } catch {
            broken = true
            throw error
        }
    }

    deinit {
        if opened && !broken {
            _ = amqp_channel_close(state, channel, Int32(AMQP_REPLY_SUCCESS))
            _ = amqp_connection_close(state, Int32(AMQP_REPLY_SUCCESS))
        }
        amqp_destroy_connection(state)
    }

    // MARK: Topology

    private func declareExchanges() throws {
        let arena = Arena()
        defer { arena.free() }
        _ = amqp_exchange_declare(
            state, channel, arena.bytes(settings.exchange), arena.bytes("topic"), 0, 1, 0, 0,
            amqp_empty_table)
        try checkLastReply("exchange.declare \(settings.exchange)")
        _ = amqp_exchange_declare(
            state, channel, arena.bytes(settings.deadLetterExchange), arena.bytes("fanout"), 0, 1, 0, 0,
            amqp_empty_table)
        try checkLastReply("exchange.declare \(settings.deadLetterExchange)")
        withQueueArguments(quorum: true, deadLettered: false, arena) { arguments in
            _ = amqp_queue_declare(
                state, channel, arena.bytes(settings.deadLetterQueue), 0, 1, 0, 0, arguments)
        }
        try checkLastReply("queue.declare \(settings.deadLetterQueue)")
        _ = amqp_queue_bind(
            state, channel, arena.bytes(settings.deadLetterQueue),
            arena.bytes(settings.deadLetterExchange), arena.bytes("#"), amqp_empty_table)
        try checkLastReply("queue.bind \(settings.deadLetterQueue)")
    }

    /// Declares the subscriber's quorum queue (dead-lettering to the dead-letter exchange after
    /// `deliveryLimit` deliveries) and binds it to `<subscriber>.#`. Once per connection.
    func declareQueue(for subscriber: String) throws {
        let arena = Arena()
        defer { arena.free() }
        let queue = settings.queue(for: subscriber)
        guard !declaredQueues.contains(queue) else { return }
        withQueueArguments(quorum: true, deadLettered: true, arena) { arguments in
            _ = amqp_queue_declare(state, channel, arena.bytes(queue), 0, 1, 0, 0, arguments)
        }
        try checkLastReply("queue.declare \(queue)")
        _ = amqp_queue_bind(
            state, channel, arena.bytes(queue), arena.bytes(settings.exchange),
            arena.bytes(subscriber + ".#"), amqp_empty_table)
        try checkLastReply("queue.bind \(queue)")
        declaredQueues.insert(queue)
    }

    private func withQueueArguments(
        quorum: Bool, deadLettered: Bool, _ arena: Arena, _ body: (amqp_table_t) -> Void
    ) {
        let entries = UnsafeMutablePointer<amqp_table_entry_t>.allocate(capacity: 3)
        defer { entries.deallocate() }
        var count = 0
        if quorum {
            rcm_amqp_entry_string(entries + count, arena.bytes("x-queue-type"), arena.bytes("quorum"))
            count += 1
        }
        if deadLettered {
            rcm_amqp_entry_string(
                entries + count, arena.bytes("x-dead-letter-exchange"), arena.bytes(settings.deadLetterExchange))
            rcm_amqp_entry_int(entries + count + 1, arena.bytes("x-delivery-limit"), Int64(settings.deliveryLimit))
            count += 2
        }
        body(amqp_table_t(num_entries: Int32(count), entries: entries))
    }

    /// Messages ready in a queue (not counting unacknowledged ones); declares nothing.
    func readyCount(of queue: String) throws -> Int {
        let arena = Arena()
        defer { arena.free() }
        let ok = amqp_queue_declare(state, channel, arena.bytes(queue), 1, 0, 0, 0, amqp_empty_table)
        try checkLastReply("queue.declare (passive) \(queue)")
        return Int(ok?.pointee.message_count ?? 0)
    }

    func deleteQueue(_ queue: String) throws {
        let arena = Arena()
        defer { arena.free() }
        _ = amqp_queue_delete(state, channel, arena.bytes(queue), 0, 0)
        try checkLastReply("queue.delete \(queue)")
    }

    func deleteExchange(_ exchange: String) throws {
        let arena = Arena()
        defer { arena.free() }
        _ = amqp_exchange_delete(state, channel, arena.bytes(exchange), 0)
        try checkLastReply("exchange.delete \(exchange)")
    }

    // MARK: Publishing with confirms

    func enableConfirms() throws {
        _ = amqp_confirm_select(state, channel)
        try checkLastReply("confirm.select")
        nextPublishTag = 1
    }

    /// A message's metadata, copied into the AMQP properties at publish time.
    struct Message {
        var messageId: String
        var type: String
        var correlationId: String
        var appId: String
        var headers: [(String, Header)]
        var body: [UInt8]
    }

    enum Header {
        case text(String)
        case integer(Int64)
    }

    /// Publishes a persistent message (mandatory: the broker returns it when no queue takes it);
    /// returns its delivery tag.
    @discardableResult
    func publish(_ message: Message, routingKey: String) throws -> UInt64 {
        // Every C string the properties point at must live until amqp_basic_publish returns:
        // copy them into one arena.
        let arena = Arena()
        defer { arena.free() }
        var properties = amqp_basic_properties_t()
        properties._flags =
            amqp_flags_t(AMQP_BASIC_CONTENT_TYPE_FLAG) | amqp_flags_t(AMQP_BASIC_DELIVERY_MODE_FLAG)
            | amqp_flags_t(AMQP_BASIC_MESSAGE_ID_FLAG) | amqp_flags_t(AMQP_BASIC_TYPE_FLAG)
            | amqp_flags_t(AMQP_BASIC_CORRELATION_ID_FLAG) | amqp_flags_t(AMQP_BASIC_APP_ID_FLAG)
            | amqp_flags_t(AMQP_BASIC_HEADERS_FLAG)
        properties.content_type = arena.bytes("application/json")
        properties.delivery_mode = 2  // persistent
        properties.message_id = arena.bytes(message.messageId)
        properties.type = arena.bytes(message.type)
        properties.correlation_id = arena.bytes(message.correlationId)
        properties.app_id = arena.bytes(message.appId)
        let entries = UnsafeMutablePointer<amqp_table_entry_t>.allocate(capacity: max(1, message.headers.count))
        defer { entries.deallocate() }
        for (index, (key, value)) in message.headers.enumerated() {
            switch value {
            case .text(let text): rcm_amqp_entry_string(entries + index, arena.bytes(key), arena.bytes(text))
            case .integer(let number): rcm_amqp_entry_int(entries + index, arena.bytes(key), number)
            }
        }
        properties.headers = amqp_table_t(num_entries: Int32(message.headers.count), entries: entries)
        let status = message.body.withUnsafeBytes { raw in
            amqp_basic_publish(
                state, channel, arena.bytes(settings.exchange), arena.bytes(routingKey), 1, 0, &properties,
                amqp_bytes_t(len: raw.count, bytes: UnsafeMutableRawPointer(mutating: raw.baseAddress)))
        }
        guard status == AMQP_STATUS_OK.rawValue else {
            broken = true
            throw RabbitMQError("basic.publish: \(String(cString: amqp_error_string2(status)))")
        }
        defer { nextPublishTag += 1 }
        return nextPublishTag
    }

    /// What the broker says about published messages.
    enum Confirmation {
        case ack(tag: UInt64, multiple: Bool)
        case nack(tag: UInt64, multiple: Bool)
        /// A mandatory message no queue took; the broker acks it right after.
        case returned(messageId: String)
    }

    /// Waits up to `timeout` for the next confirm (or return); nil when none came in time.
    func nextConfirmation(timeout: TimeInterval) throws -> Confirmation? {
        var frame = amqp_frame_t()
        var wait = AMQPConnection.timeval(timeout)
        while true {
            let status = amqp_simple_wait_frame_noblock(state, &frame, &wait)
            if status == AMQP_STATUS_TIMEOUT.rawValue { return nil }
            guard status == AMQP_STATUS_OK.rawValue else {
                broken = true
                throw RabbitMQError("waiting for confirms: \(String(cString: amqp_error_string2(status)))")
            }
            switch rcm_amqp_frame_method(&frame) {
            case UInt32(RCM_AMQP_BASIC_ACK), UInt32(RCM_AMQP_BASIC_NACK):
                var tag: UInt64 = 0
                var multiple: Int32 = 0
                rcm_amqp_frame_confirm(&frame, &tag, &multiple)
                return rcm_amqp_frame_method(&frame) == UInt32(RCM_AMQP_BASIC_ACK)
                    ? .ack(tag: tag, multiple: multiple != 0) : .nack(tag: tag, multiple: multiple != 0)
            case UInt32(RCM_AMQP_BASIC_RETURN):
                // The returned message's header and body frames follow.
                var message = amqp_message_t()
                let reply = amqp_read_message(state, channel, &message, 0)
                defer { amqp_destroy_message(&message) }
                try check(reply, "reading a returned message")
                return .returned(messageId: AMQPConnection.string(message.properties.message_id))
            case UInt32(RCM_AMQP_CHANNEL_CLOSE), UInt32(RCM_AMQP_CONNECTION_CLOSE):
                broken = true
                throw RabbitMQError(describe(rcm_amqp_frame_method_body(&frame)))
            default:
                continue  // nothing else is expected on a publishing channel
            }
        }
    }

    // MARK: Consuming

    func consume(queue: String, prefetch: UInt16, tag: String) throws {
        let arena = Arena()
        defer { arena.free() }
        _ = amqp_basic_qos(state, channel, 0, prefetch, 0)
        try checkLastReply("basic.qos")
        _ = amqp_basic_consume(
            state, channel, arena.bytes(queue), arena.bytes(tag), 0, 0, 0, amqp_empty_table)
        try checkLastReply("basic.consume \(queue)")
    }

    struct Delivery {
        let tag: UInt64
        let redelivered: Bool
        let body: [UInt8]
    }

    /// The next delivery, waiting at most `timeout` (0: only what has arrived); nil if none.
    func nextDelivery(timeout: TimeInterval) throws -> Delivery? {
        var envelope = amqp_envelope_t()
        var wait = AMQPConnection.timeval(timeout)
        amqp_maybe_release_buffers(state)
        let reply = amqp_consume_message(state, &envelope, &wait, 0)
        if reply.reply_type == AMQP_RESPONSE_NORMAL {
            defer { amqp_destroy_envelope(&envelope) }
            let body = envelope.message.body
            let bytes =
                body.len == 0 || body.bytes == nil
                ? [] : Array(UnsafeRawBufferPointer(start: body.bytes, count: body.len))
            return Delivery(tag: envelope.delivery_tag, redelivered: envelope.redelivered != 0, body: bytes)
        }
        if reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION {
            if reply.library_error == AMQP_STATUS_TIMEOUT.rawValue { return nil }
            if reply.library_error == AMQP_STATUS_UNEXPECTED_STATE.rawValue {
                // Something other than a delivery: read it.
                var frame = amqp_frame_t()
                let status = amqp_simple_wait_frame(state, &frame)
                guard status == AMQP_STATUS_OK.rawValue else {
                    broken = true
                    throw RabbitMQError("reading a frame: \(String(cString: amqp_error_string2(status)))")
                }
                switch rcm_amqp_frame_method(&frame) {
                case UInt32(RCM_AMQP_CHANNEL_CLOSE), UInt32(RCM_AMQP_CONNECTION_CLOSE):
                    broken = true
                    throw RabbitMQError(describe(rcm_amqp_frame_method_body(&frame)))
                case UInt32(RCM_AMQP_BASIC_CANCEL):
                    broken = true
                    throw RabbitMQError("the broker cancelled the consumer (queue deleted or moved)")
                default:
                    return nil
                }
            }
        }
        try check(reply, "basic.consume")
        return nil
    }

    /// A message taken with `get`, with the properties the transport sets.
    struct Fetched {
        var body: [UInt8]
        var messageId: String
        var type: String
        var correlationId: String
        var deliveryMode: UInt8
        /// Text and integer headers, as text.
        var headers: [String: String]
    }

    /// Takes one message from a queue without a consumer (tests, tools); acknowledged at once.
    func get(queue: String) throws -> Fetched? {
        let arena = Arena()
        defer { arena.free() }
        let reply = amqp_basic_get(state, channel, arena.bytes(queue), 1)
        try check(reply, "basic.get \(queue)")
        guard reply.reply.id == AMQP_BASIC_GET_OK_METHOD else { return nil }
        var message = amqp_message_t()
        try check(amqp_read_message(state, channel, &message, 0), "reading a message")
        defer { amqp_destroy_message(&message) }
        let body = message.body
        let properties = message.properties
        var headers: [String: String] = [:]
        if properties._flags & amqp_flags_t(AMQP_BASIC_HEADERS_FLAG) != 0, let entries = properties.headers.entries {
            for index in 0..<Int(properties.headers.num_entries) {
                let entry = entries[index]
                let key = AMQPConnection.string(entry.key)
                switch entry.value.kind {
                case UInt8(ascii: "S"): headers[key] = AMQPConnection.string(entry.value.value.bytes)
                case UInt8(ascii: "l"): headers[key] = String(entry.value.value.i64)
                default: headers[key] = "?"
                }
            }
        }
        return Fetched(
            body: body.len == 0 || body.bytes == nil
                ? [] : Array(UnsafeRawBufferPointer(start: body.bytes, count: body.len)),
            messageId: AMQPConnection.string(properties.message_id), type: AMQPConnection.string(properties.type),
            correlationId: AMQPConnection.string(properties.correlation_id), deliveryMode: properties.delivery_mode,
            headers: headers)
    }

    /// Drops the connection without closing it politely, as a crashed process would.
    func abandon() { broken = true }

    func ack(_ tag: UInt64, multiple: Bool = false) throws {
        try checkStatus(amqp_basic_ack(state, channel, tag, multiple ? 1 : 0), "basic.ack")
    }

    func nack(_ tag: UInt64, requeue: Bool) throws {
        try checkStatus(amqp_basic_nack(state, channel, tag, 0, requeue ? 1 : 0), "basic.nack")
    }

    func reject(_ tag: UInt64, requeue: Bool) throws {
        try checkStatus(amqp_basic_reject(state, channel, tag, requeue ? 1 : 0), "basic.reject")
    }

    func releaseBuffers() { amqp_maybe_release_buffers(state) }

    // MARK: Errors

    private func check(_ reply: amqp_rpc_reply_t, _ what: String) throws {
        guard reply.reply_type != AMQP_RESPONSE_NORMAL else { return }
        broken = true
        var buffer = [CChar](repeating: 0, count: 512)
        rcm_amqp_describe_reply(reply, &buffer, buffer.count)
        throw RabbitMQError("\(what): \(AMQPConnection.text(buffer))")
    }

    private func checkLastReply(_ what: String) throws { try check(amqp_get_rpc_reply(state), what) }

    private func checkStatus(_ status: Int32, _ what: String) throws {
        guard status != AMQP_STATUS_OK.rawValue else { return }
        broken = true
        throw RabbitMQError("\(what): \(String(cString: amqp_error_string2(status)))")
    }

    private func describe(_ method: amqp_method_t) -> String {
        var buffer = [CChar](repeating: 0, count: 512)
        rcm_amqp_describe_method(method, &buffer, buffer.count)
        return AMQPConnection.text(buffer)
    }

    static func timeval(_ seconds: TimeInterval) -> Foundation.timeval {
        let whole = max(0, seconds.rounded(.down))
        return Foundation.timeval(tv_sec: Int(whole), tv_usec: Int((seconds - whole) * 1_000_000))
    }

    /// The text of a NUL-terminated buffer.
    static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func string(_ bytes: amqp_bytes_t) -> String {
        guard bytes.len > 0, let start = bytes.bytes else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: start, count: bytes.len), as: UTF8.self)
    }
}

/// C memory for the strings of one publish, freed together.
private final class Arena {
    private var blocks: [UnsafeMutableRawPointer] = []

    func bytes(_ text: String) -> amqp_bytes_t {
        var text = text
        return text.withUTF8 { utf8 in
            let block = UnsafeMutableRawPointer.allocate(byteCount: max(1, utf8.count), alignment: 1)
            if let base = utf8.baseAddress { block.copyMemory(from: base, byteCount: utf8.count) }
            blocks.append(block)
            return amqp_bytes_t(len: utf8.count, bytes: block)
        }
    }

    func free() {
        blocks.forEach { $0.deallocate() }
        blocks.removeAll()
    }
}
