import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A blocking HTTP/1.1 client for plain-`http` calls between the platform's own services, which
/// keeps connections open between calls (keep-alive) and reuses them.
///
/// `URLSession` on Linux hands every request to libcurl on a background queue and wakes the caller
/// through Dispatch; for the short loopback calls a billing request makes to patient and insurance
/// that costs more CPU than the work being asked for. This client writes the request and reads the
/// answer on the calling thread, with a deadline on every wait (`poll`), so a caller gets an
/// answer or `OutboundHTTP.Failure` within `timeout`.
///
/// Idle connections are kept per `host:port` for at most `maxIdleSeconds` (below the servers'
/// connection timeout) and are checked before reuse: one the server has closed is dropped. A GET
/// whose reused connection turns out to be dead before any byte of the answer arrives is sent
/// again on a new connection; other methods are not, since the server may have acted on them.
public final class KeepAliveHTTPClient: Sendable {
    struct Idle {
        let socket: Int32
        let since: Date
    }

    struct Endpoint: Hashable {
        let host: String
        let port: UInt16
        var key: String { "\(host):\(port)" }
    }

    /// One client for the process.
    public static let shared = KeepAliveHTTPClient()

    let maxIdlePerEndpoint: Int
    let maxIdleSeconds: TimeInterval
    let maxResponseBytes: Int
    private let idle = Mutex<[String: [Idle]]>([:])

    public init(maxIdlePerEndpoint: Int = 64, maxIdleSeconds: TimeInterval = 20, maxResponseBytes: Int = 64 << 20) {
        self.maxIdlePerEndpoint = maxIdlePerEndpoint
        self.maxIdleSeconds = maxIdleSeconds
        self.maxResponseBytes = maxResponseBytes
    }

    deinit {
        idle.withLock { pools in
            for connection in pools.values.joined() { close(connection.socket) }
        }
    }

    /// Sends `method target` (a path with its query, already percent-encoded) to `http://host:port`
    /// and waits at most `timeout` seconds for the whole answer.
    public func send(
        method: String, host: String, port: UInt16, target: String, headers: [(String, String)], body: [UInt8],
        timeout: TimeInterval
    ) throws -> HTTPResponse {
        let endpoint = Endpoint(host: host, port: port)
        let deadline = Date().addingTimeInterval(timeout)
        let request = Self.encode(method: method, endpoint: endpoint, target: target, headers: headers, body: body)
        while true {
            let (socket, reused) = try takeConnection(endpoint, deadline: deadline)
            do {
                let (response, keepOpen) = try exchange(request, on: socket, method: method, deadline: deadline)
                if keepOpen { giveBack(socket, to: endpoint) } else { close(socket) }
                return response
            } catch let error as ExchangeError {
                close(socket)
                switch error {
                case .closedBeforeAnswer where reused && method == "GET":
                    continue  // a stale keep-alive connection: once more on a fresh one
                case .closedBeforeAnswer, .reset:
                    throw OutboundHTTP.Failure(kind: .unreachable, description: "\(endpoint.key) closed the connection")
                case .timedOut:
                    throw OutboundHTTP.Failure(kind: .timeout, description: "no answer within \(timeout) s")
                case .malformed(let why):
                    throw OutboundHTTP.Failure(kind: .unreachable, description: "\(endpoint.key): \(why)")
                }
            }
        }
    }

    /// Idle connections currently kept (for tests and metrics).
    public var idleConnectionCount: Int { idle.withLock { $0.values.reduce(0) { $0 + $1.count } } }

    // MARK: - Connections

    private func takeConnection(_ endpoint: Endpoint, deadline: Date) throws -> (Int32, reused: Bool) {
        let now = Date()
        var stale: [Int32] = []
        let reusable: Int32? = idle.withLock { pools in
            var pool = pools[endpoint.key] ?? []
            defer { pools[endpoint.key] = pool }
            while let candidate = pool.popLast() {
                if now.timeIntervalSince(candidate.since) < maxIdleSeconds && Self.isQuiet(candidate.socket) {
                    return candidate.socket
                }
                stale.append(candidate.socket)
            }
            return nil
        }
        for socket in stale { close(socket) }
        if let reusable { return (reusable, true) }
        return (try connect(endpoint, deadline: deadline), false)
    }

    private func giveBack(_ socket: Int32, to endpoint: Endpoint) {
        let kept = idle.withLock { pools in
            var pool = pools[endpoint.key] ?? []
            guard pool.count < maxIdlePerEndpoint else { return false }
            pool.append(Idle(socket: socket, since: Date()))
            pools[endpoint.key] = pool
            return true
        }
        if !kept { close(socket) }
    }

    /// An idle keep-alive connection has nothing to read; if it has (EOF, or bytes nobody asked
    /// for), the server closed it or it is out of step, and it must not be reused.
    private static func isQuiet(_ socket: Int32) -> Bool {
        var entry = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, 0) == 0
    }

    private func connect(_ endpoint: Endpoint, deadline: Date) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(endpoint.host, String(endpoint.port), &hints, &list) == 0, let first = list else {
            throw OutboundHTTP.Failure(kind: .unreachable, description: "cannot resolve \(endpoint.host)")
        }
        defer { freeaddrinfo(list) }
        var lastError = "no address"
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let address = candidate {
            candidate = address.pointee.ai_next
            let fd = socket(address.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { continue }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            var one: Int32 = 1
            _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            if Glibc.connect(fd, address.pointee.ai_addr, address.pointee.ai_addrlen) == 0 { return fd }
            guard errno == EINPROGRESS else {
                lastError = String(cString: strerror(errno))
                close(fd)
                continue
            }
            guard Self.wait(fd, for: Int16(POLLOUT), until: deadline) else {
                close(fd)
                throw OutboundHTTP.Failure(kind: .timeout, description: "could not connect to \(endpoint.key) in time")
            }
            var status: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            _ = getsockopt(fd, SOL_SOCKET, SO_ERROR, &status, &length)
            if status == 0 { return fd }
            lastError = String(cString: strerror(status))
            close(fd)
        }
        throw OutboundHTTP.Failure(kind: .unreachable, description: "\(endpoint.key): \(lastError)")
    }

    /// Waits until `socket` is ready for `events` or the deadline passes (false).
    private static func wait(_ socket: Int32, for events: Int16, until deadline: Date) -> Bool {
        while true {
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { return false }
            var entry = pollfd(fd: socket, events: events, revents: 0)
            let ready = poll(&entry, 1, Int32(min(remaining * 1000, Double(Int32.max)).rounded(.up)))
            if ready > 0 { return true }
            if ready < 0 && errno != EINTR { return true }  // let the read or write report the error
        }
    }

    // MARK: - One exchange

    enum ExchangeError: Error {
        case closedBeforeAnswer
        case reset
        case timedOut
        case malformed(String)
    }

    static func encode(
        method: String, endpoint: Endpoint, target: String, headers: [(String, String)], body: [UInt8]
    ) -> [UInt8] {
        var head = "\(method) \(target) HTTP/1.1\r\nHost: \(endpoint.key)\r\n"
        for (name, value) in headers {
            let lower = name.lowercased()
            if lower == "host" || lower == "content-length" || lower == "connection" || lower == "transfer-encoding" {
                continue
            }
            // Header values come from our own code, but a CR or LF would split the request.
            guard !value.contains("\r") && !value.contains("\n") else { continue }
            head += "\(name): \(value)\r\n"
        }
        if !body.isEmpty || method == "POST" || method == "PUT" || method == "PATCH" {
            head += "Content-Length: \(body.count)\r\n"
        }
        head += "\r\n"
        return Array(head.utf8) + body
    }

    private func exchange(
        _ request: [UInt8], on socket: Int32, method: String, deadline: Date
    ) throws -> (
        HTTPResponse, keepOpen: Bool
    ) {
        var written = 0
        while written < request.count {
            let count = request.withUnsafeBytes {
                Glibc.send(socket, $0.baseAddress! + written, request.count - written, Int32(MSG_NOSIGNAL))
            }
            if count > 0 {
                written += count
            } else if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                guard Self.wait(socket, for: Int16(POLLOUT), until: deadline) else { throw ExchangeError.timedOut }
            } else {
                throw ExchangeError.closedBeforeAnswer  // nothing answered; the server closed it
            }
        }
        var reader = ResponseReader(socket: socket, deadline: deadline, limit: maxResponseBytes)
        return try reader.read(bodyExpected: method != "HEAD")
    }

    /// Reads one HTTP/1.1 response from a socket: the head, then a body framed by
    /// `Content-Length`, by chunked encoding, or by the end of the connection.
    struct ResponseReader {
        let socket: Int32
        let deadline: Date
        let limit: Int
        var buffer: [UInt8] = []
        var position = 0
        var receivedAny = false

        init(socket: Int32, deadline: Date, limit: Int) {
            self.socket = socket
            self.deadline = deadline
            self.limit = limit
            buffer.reserveCapacity(8192)
        }

        /// Reads more bytes; false at the end of the stream.
        mutating func fill() throws -> Bool {
            if position > 0 && position == buffer.count {
                buffer.removeAll(keepingCapacity: true)
                position = 0
            }
            guard buffer.count < limit else { throw ExchangeError.malformed("answer larger than \(limit) bytes") }
            var chunk = [UInt8](repeating: 0, count: 16384)
            while true {
                let count = chunk.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
                if count > 0 {
                    receivedAny = true
                    buffer.append(contentsOf: chunk[0..<count])
                    return true
                }
                if count == 0 { return false }
                if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR {
                    guard KeepAliveHTTPClient.wait(socket, for: Int16(POLLIN), until: deadline) else {
                        throw ExchangeError.timedOut
                    }
                    continue
                }
                if !receivedAny { throw ExchangeError.closedBeforeAnswer }
                throw ExchangeError.reset
            }
        }

        /// The next line without its CRLF.
        mutating func line() throws -> String {
            while true {
                if let end = buffer[position...].firstIndex(of: UInt8(ascii: "\n")) {
                    var stop = end
                    if stop > position && buffer[stop - 1] == UInt8(ascii: "\r") { stop -= 1 }
                    let text = String(decoding: buffer[position..<stop], as: UTF8.self)
                    position = end + 1
                    return text
                }
                guard buffer.count - position < 65536 else { throw ExchangeError.malformed("header line too long") }
                guard try fill() else {
                    throw receivedAny ? ExchangeError.reset : ExchangeError.closedBeforeAnswer
                }
            }
        }

        mutating func bytes(_ count: Int) throws -> [UInt8] {
            guard count <= limit else { throw ExchangeError.malformed("answer larger than \(limit) bytes") }
            while buffer.count - position < count {
                guard try fill() else { throw ExchangeError.reset }
            }
            let slice = Array(buffer[position..<position + count])
            position += count
            return slice
        }

        mutating func read(bodyExpected: Bool) throws -> (HTTPResponse, keepOpen: Bool) {
            var status = 0
            var headers = HTTPHeaders()
            repeat {  // 1xx interim answers are skipped
                let statusLine = try line()
                let parts = statusLine.split(separator: " ", maxSplits: 2)
                guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let code = Int(parts[1]),
                    (100...599).contains(code)
                else { throw ExchangeError.malformed("bad status line") }
                status = code
                headers = HTTPHeaders()
                while true {
                    let field = try line()
                    if field.isEmpty { break }
                    guard let colon = field.firstIndex(of: ":") else {
                        throw ExchangeError.malformed("bad header line")
                    }
                    headers.add(
                        String(field[..<colon]),
                        String(field[field.index(after: colon)...]).trimmingCharacters(in: .whitespaces))
                }
            } while status < 200
            var keepOpen = headers["Connection"]?.lowercased() != "close"
            var body: [UInt8] = []
            if bodyExpected && status != 204 && status != 304 {
                if headers["Transfer-Encoding"]?.lowercased().contains("chunked") == true {
                    while true {
                        let sizeLine = try line()
                        let digits = sizeLine.split(separator: ";", maxSplits: 1).first ?? ""
                        guard let size = Int(digits.trimmingCharacters(in: .whitespaces), radix: 16), size >= 0 else {
                            throw ExchangeError.malformed("bad chunk size")
                        }
                        if size == 0 {
                            while try !line().isEmpty {}  // trailers
                            break
                        }
                        body += try bytes(size)
                        guard body.count <= limit else { throw ExchangeError.malformed("answer too large") }
                        _ = try line()
                    }
                } else if let declared = headers["Content-Length"] {
                    guard let length = Int(declared), length >= 0 else {
                        throw ExchangeError.malformed("bad Content-Length")
                    }
                    body = try bytes(length)
                } else {
                    body = Array(buffer[position...])
                    position = buffer.count
                    while try fill() {
                        body += buffer[position...]
                        position = buffer.count
                    }
                    keepOpen = false
                }
            }
            if position != buffer.count { keepOpen = false }  // bytes beyond the answer: out of step
            return (HTTPResponse(status: status, headers: headers, body: body), keepOpen)
        }
    }
}
