import CMicroHTTPD
import Foundation
import RCMCore
import Synchronization

/// An HTTP/1.1 server on libmicrohttpd: epoll with an internal thread pool, each request handled
/// synchronously on a pool thread (see shared/notes/libmicrohttpd.md for the pitfalls avoided here).
public final class HTTPServer: Sendable {
    public struct Configuration: Sendable {
        public var host: String
        public var port: UInt16
        public var limits: HTTPLimits
        /// PEM key and certificate chain: serve HTTPS (TLS 1.2/1.3, HSTS on every response).
        public var tls: (key: String, certificate: String)?

        public init(
            host: String = "127.0.0.1", port: UInt16 = 8080, limits: HTTPLimits = HTTPLimits(),
            tls: (key: String, certificate: String)? = nil
        ) {
            self.host = host
            self.port = port
            self.limits = limits
            self.tls = tls
        }
    }

    let application: HTTPApplication
    let configuration: Configuration
    private let daemon = Mutex<DaemonHandle?>(nil)
    /// Requests started and not yet completed; shutdown waits for it to reach zero.
    let inFlight = Atomic<Int>(0)
    private let boundPort = Atomic<UInt16>(0)

    public init(application: HTTPApplication, configuration: Configuration) {
        self.application = application
        self.configuration = configuration
    }

    public var port: UInt16 { boundPort.load(ordering: .acquiring) }

    public func start() throws {
        let limits = configuration.limits
        let context = Unmanaged.passUnretained(self).toOpaque()
        // libmicrohttpd keeps these pointers in the daemon; they stay allocated for its lifetime
        // (one key and one certificate per server start).
        let key = configuration.tls.map { strdup($0.key) } ?? nil
        let certificate = configuration.tls.map { strdup($0.certificate) } ?? nil
        let started: OpaquePointer? = configuration.host.withCString { host in
            var config = rcm_mhd_config(
                host: host, port: configuration.port, threads: UInt32(limits.threads),
                connection_limit: UInt32(limits.maxConnections),
                per_ip_connection_limit: UInt32(limits.maxConnectionsPerIP),
                connection_timeout_seconds: UInt32(limits.connectionTimeoutSeconds),
                connection_memory_limit: limits.connectionMemoryBytes, listen_backlog: 1024,
                tls_key_pem: key, tls_cert_pem: certificate)
            return rcm_mhd_start(&config, accessHandler, context, requestCompleted, context)
        }
        guard let started else {
            throw ServerError(description: "could not listen on \(configuration.host):\(configuration.port)")
        }
        daemon.withLock { $0 = DaemonHandle(pointer: started) }
        boundPort.store(rcm_mhd_bound_port(started), ordering: .releasing)
    }

    /// Stops accepting connections, lets in-flight requests finish (up to `grace`), then stops.
    public func shutdown(grace: Duration = .seconds(10)) {
        guard
            let running = daemon.withLock({ value -> DaemonHandle? in
                defer { value = nil }
                return value
            })?.pointer
        else { return }
        let listener = MHD_quiesce_daemon(running)
        if listener >= 0 { close(listener) }
        let deadline = ContinuousClock.now + grace
        while inFlight.load(ordering: .acquiring) > 0 && ContinuousClock.now < deadline {
            Thread.sleep(forTimeInterval: 0.005)
        }
        MHD_stop_daemon(running)
    }
}

/// The daemon pointer; libmicrohttpd's daemon functions are thread-safe.
struct DaemonHandle: @unchecked Sendable {
    let pointer: OpaquePointer
}

public struct ServerError: Error, CustomStringConvertible {
    public let description: String
}

/// Per-request state kept in libmicrohttpd's `con_cls` between the calls of the access handler.
final class PendingRequest {
    var body: [UInt8] = []
    var tooLarge = false
}

/// Collects header or query pairs through `MHD_get_connection_values`.
final class PairCollector {
    var pairs: [(name: String, value: String)] = []
}

private let collectPair: MHD_KeyValueIterator = { cls, _, key, value in
    guard let cls, let key else { return .YES }
    let collector = Unmanaged<PairCollector>.fromOpaque(cls).takeUnretainedValue()
    collector.pairs.append((String(cString: key), value.map { String(cString: $0) } ?? ""))
    return .YES
}

private let requestCompleted: MHD_RequestCompletedCallback = { cls, _, conCls, _ in
    guard let cls, let conCls, let state = conCls.pointee else { return }
    Unmanaged<PendingRequest>.fromOpaque(state).release()
    conCls.pointee = nil
    let server = Unmanaged<HTTPServer>.fromOpaque(cls).takeUnretainedValue()
    server.inFlight.subtract(1, ordering: .releasing)
}

private let accessHandler: MHD_AccessHandlerCallback = {
    cls, connection, url, method, _, uploadData, uploadSize, conCls in
    guard let cls, let connection, let conCls, let uploadSize else { return .NO }
    let server = Unmanaged<HTTPServer>.fromOpaque(cls).takeUnretainedValue()
    let limits = server.configuration.limits

    // First call: headers are in, the body is not. Keep state and answer later (keep-alive).
    guard let existing = conCls.pointee else {
        let state = PendingRequest()
        if let length = MHD_lookup_connection_value(connection, .HEADER_KIND, "Content-Length"),
            let declared = Int(String(cString: length)), declared > limits.maxBodyBytes
        {
            state.tooLarge = true
        }
        conCls.pointee = Unmanaged.passRetained(state).toOpaque()
        server.inFlight.add(1, ordering: .releasing)
        return .YES
    }
    let state = Unmanaged<PendingRequest>.fromOpaque(existing).takeUnretainedValue()

    // Body chunks.
    if uploadSize.pointee > 0 {
        if !state.tooLarge, let uploadData {
            if state.body.count + uploadSize.pointee > limits.maxBodyBytes {
                state.tooLarge = true
                state.body = []
            } else {
                uploadData.withMemoryRebound(to: UInt8.self, capacity: uploadSize.pointee) { bytes in
                    state.body.append(contentsOf: UnsafeBufferPointer(start: bytes, count: uploadSize.pointee))
                }
            }
        }
        uploadSize.pointee = 0
        return .YES
    }

    // Last call: the whole request is here.
    let response: HTTPResponse
    let httpMethod = method.flatMap(HTTPMethod.init(cString:))
    if let httpMethod {
        let headers = PairCollector()
        let query = PairCollector()
        MHD_get_connection_values(connection, .HEADER_KIND, collectPair, Unmanaged.passUnretained(headers).toOpaque())
        MHD_get_connection_values(
            connection, .GET_ARGUMENT_KIND, collectPair, Unmanaged.passUnretained(query).toOpaque())
        let address = withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { buffer in
            guard let start = buffer.baseAddress else { return "" }
            rcm_mhd_client_address(connection, start, buffer.count)
            return String(cString: start)
        }
        let request = HTTPRequest(
            method: httpMethod, path: url.map { String(cString: $0) } ?? "/",
            query: query.pairs.isEmpty ? [:] : Dictionary(query.pairs, uniquingKeysWith: { first, _ in first }),
            headers: HTTPHeaders(fields: headers.pairs), body: state.body,
            remoteAddress: address)
        if state.tooLarge {
            var problem = Problem.payloadTooLarge(limit: limits.maxBodyBytes)
            problem.instance = request.path
            var tooLarge = HTTPResponse.problem(problem)
            tooLarge.headers.set("X-Request-Id", HTTPApplication.requestId(from: request.headers["X-Request-Id"]))
            response = tooLarge
        } else {
            response = server.application.respond(to: request)
        }
        if server.configuration.tls != nil {
            var secured = response
            secured.headers.add("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
            return queue(secured, on: connection)
        }
    } else {
        let methodText = method.map { String(cString: $0) } ?? ""
        response = HTTPResponse.problem(.methodNotAllowed("Method \(methodText) is not supported."))
    }
    return queue(response, on: connection)
}

extension HTTPMethod {
    /// The method named by a C string, compared in place (no String per request).
    init?(cString: UnsafePointer<CChar>) {
        for method in HTTPMethod.allCases where method.rawValue.withCString({ strcmp($0, cString) == 0 }) {
            self = method
            return
        }
        return nil
    }
}

private func queue(_ response: HTTPResponse, on connection: OpaquePointer) -> MHD_Result {
    let mhdResponse = response.body.withUnsafeBytes { bytes in
        MHD_create_response_from_buffer(
            bytes.count, UnsafeMutableRawPointer(mutating: bytes.baseAddress), .RESPMEM_MUST_COPY)
    }
    guard let mhdResponse else { return .NO }
    for field in response.headers {
        // withCString: a short string's text is copied on the stack; passing the String itself
        // made a heap copy of every short header name.
        field.name.withCString { name in
            field.value.withCString { value in _ = MHD_add_response_header(mhdResponse, name, value) }
        }
    }
    let result = MHD_queue_response(connection, UInt32(response.status), mhdResponse)
    MHD_destroy_response(mhdResponse)
    return result
}
