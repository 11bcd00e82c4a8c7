import Foundation
import Synchronization
import Testing

@testable import RCMHTTP

#if canImport(Glibc)
    import Glibc
#endif

/// A listening socket on 127.0.0.1 whose connections are served by a closure, one thread per
/// connection, to give the client answers a real server would not (chunked, close-delimited,
/// silence, closing after one answer).
final class ScriptedServer: @unchecked Sendable {
    let listener: Int32
    let port: UInt16
    /// Connections accepted so far.
    var accepted: Int { counter.value.load(ordering: .relaxed) }
    private let counter = Counter()

    final class Counter: Sendable { let value = Atomic<Int>(0) }

    /// `serve` gets the connection and reads and writes it as it likes; the socket is closed after.
    init(serve: @escaping @Sendable (Int32) -> Void) throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        listener = descriptor
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(descriptor, 16) == 0 else { throw ServerError(description: "bind failed") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        port = UInt16(bigEndian: address.sin_port)
        let counter = self.counter
        let acceptStopped = self.acceptStopped
        Thread.detachNewThread {
            while true {
                let connection = accept(descriptor, nil, nil)
                guard connection >= 0 else {
                    acceptStopped.signal()
                    return
                }
                counter.value.add(1, ordering: .relaxed)
                Thread.detachNewThread {
                    serve(connection)
                    close(connection)
                }
            }
        }
    }

    /// Signalled when the accepting thread has left its loop.
    private let acceptStopped = DispatchSemaphore(value: 0)

    deinit {
        // Wake the accepting thread and let it leave before the descriptor is closed: once
        // closed, its number goes to the next socket any test opens, and a thread still calling
        // accept on it would take (and close) another test's connections.
        shutdown(listener, Int32(SHUT_RDWR))
        _ = acceptStopped.wait(timeout: .now() + 5)
        close(listener)
    }

    /// Reads one request head (and a Content-Length body); nil when the peer closed.
    static func readRequest(_ socket: Int32) -> String? {
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            if let text = String(bytes: data, encoding: .utf8), let end = text.range(of: "\r\n\r\n") {
                let head = String(text[..<end.lowerBound])
                let length =
                    head.components(separatedBy: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                    .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                if text.utf8.count - text[..<end.upperBound].utf8.count >= length { return text }
            }
            let count = recv(socket, &chunk, chunk.count, 0)
            guard count > 0 else { return nil }
            data += chunk[0..<count]
        }
    }

    static func write(_ socket: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }
}

@Suite("Keep-alive HTTP client between services")
struct KeepAliveHTTPClientTests {
    @Test("many calls travel over one pooled connection to the real server, with query and body intact")
    func reusesConnections() throws {
        let router = RouterBuilder()
        router.get("/who") { request, _ in
            try .json([
                "peer": request.remoteAddress, "q": request.query["q"] ?? "",
                "id": request.headers["X-Request-Id"] ?? "",
            ])
        }
        router.post("/echo") { request, _ in HTTPResponse(status: 201, body: request.body) }
        let server = try SocketTests.start(router)
        defer { server.shutdown() }
        let client = KeepAliveHTTPClient()
        var peers = Set<String>()
        for index in 0..<20 {
            let response = try client.send(
                method: "GET", host: "127.0.0.1", port: server.port, target: "/who?q=a%20b\(index)",
                headers: [("X-Request-Id", "req-\(index)")], body: [], timeout: 5)
            #expect(response.status == 200)
            let fields = try JSONDecoder().decode([String: String].self, from: Data(response.body))
            #expect(fields["q"] == "a b\(index)")
            #expect(fields["id"] == "req-\(index)")
            peers.insert(fields["peer"] ?? "")
        }
        let body = Array(#"{"amount":"12.50"}"#.utf8)
        let posted = try client.send(
            method: "POST", host: "127.0.0.1", port: server.port, target: "/echo",
            headers: [("Content-Type", "application/json")], body: body, timeout: 5)
        #expect(posted.status == 201 && posted.body == body)
        #expect(client.idleConnectionCount == 1)
        #expect(peers.count == 1, "every call came from the same client port: \(peers)")
    }

    @Test("a connection the server closed after its answer is not reused; chunked and close-delimited bodies")
    func staleConnectionsAndFraming() throws {
        let server = try ScriptedServer { socket in
            guard let request = ScriptedServer.readRequest(socket) else { return }
            if request.hasPrefix("GET /chunked") {
                ScriptedServer.write(
                    socket,
                    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
            } else {
                ScriptedServer.write(socket, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end")
            }
        }
        let client = KeepAliveHTTPClient()
        for _ in 0..<3 {
            let chunked = try client.send(
                method: "GET", host: "127.0.0.1", port: server.port, target: "/chunked", headers: [], body: [],
                timeout: 5)
            #expect(chunked.status == 200 && chunked.bodyText == "hello world")
        }
        let delimited = try client.send(
            method: "GET", host: "127.0.0.1", port: server.port, target: "/plain", headers: [], body: [], timeout: 5)
        #expect(delimited.bodyText == "until the end")
        #expect(server.accepted == 4, "each call needed a new connection")
        #expect(client.idleConnectionCount == 0)
    }

    @Test("a server that never answers gives a timeout within the deadline, not a hang")
    func timeout() throws {
        let server = try ScriptedServer { socket in
            _ = ScriptedServer.readRequest(socket)
            Thread.sleep(forTimeInterval: 2)
        }
        let client = KeepAliveHTTPClient()
        let started = Date()
        #expect {
            try client.send(
                method: "GET", host: "127.0.0.1", port: server.port, target: "/slow", headers: [], body: [],
                timeout: 0.3)
        } throws: { ($0 as? OutboundHTTP.Failure)?.kind == .timeout }
        #expect(Date().timeIntervalSince(started) < 1.5)
    }

    @Test("nothing listening is unreachable; a garbled answer is an error, not a crash")
    func unreachableAndGarbage() throws {
        let client = KeepAliveHTTPClient()
        let closedPort: UInt16
        do {
            let server = try ScriptedServer { _ in }
            closedPort = server.port
        }
        #expect {
            try client.send(
                method: "GET", host: "127.0.0.1", port: closedPort, target: "/", headers: [], body: [], timeout: 2)
        } throws: { ($0 as? OutboundHTTP.Failure)?.kind == .unreachable }
        let garbage = try ScriptedServer { socket in
            _ = ScriptedServer.readRequest(socket)
            ScriptedServer.write(socket, "\u{1}\u{2}garbage\r\n\r\n")
        }
        #expect(throws: OutboundHTTP.Failure.self) {
            try client.send(
                method: "POST", host: "127.0.0.1", port: garbage.port, target: "/", headers: [], body: [1, 2, 3],
                timeout: 2)
        }
        #expect(client.idleConnectionCount == 0)
    }

    @Test("header values with CR or LF are not written, so they cannot split the request")
    func headerInjection() {
        let bytes = KeepAliveHTTPClient.encode(
            method: "GET", endpoint: .init(host: "h", port: 1), target: "/x",
            headers: [("X-Ok", "fine"), ("X-Bad", "a\r\nInjected: yes"), ("Content-Length", "99")], body: [])
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text == "GET /x HTTP/1.1\r\nHost: h:1\r\nX-Ok: fine\r\n\r\n")
    }
}
