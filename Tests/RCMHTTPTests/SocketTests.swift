import Foundation
import RCMSecurity
import Synchronization
import Testing

@testable import RCMHTTP

#if canImport(Glibc)
    import Glibc
#endif

/// A minimal HTTP/1.1 client on a raw socket, to see exactly what goes over the wire.
final class RawConnection {
    let descriptor: Int32
    private var buffer: [UInt8] = []

    init(port: UInt16) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else { throw ServerError(description: "connect failed") }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(descriptor) }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, 0) }
    }

    /// Reads one response: status line, headers and a Content-Length body.
    func readResponse() throws -> (status: Int, headers: [String: String], body: String) {
        func fill() throws {
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = recv(descriptor, &chunk, chunk.count, 0)
            guard count > 0 else { throw ServerError(description: "connection closed") }
            buffer += chunk[0..<count]
        }
        let separator: [UInt8] = [13, 10, 13, 10]
        var headerEnd: Int?
        while headerEnd == nil {
            if buffer.count >= 4 {
                headerEnd = (0...(buffer.count - 4)).first { Array(buffer[$0..<$0 + 4]) == separator }
            }
            if headerEnd == nil { try fill() }
        }
        let head = String(decoding: buffer[0..<headerEnd!], as: UTF8.self).components(separatedBy: "\r\n")
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2 { headers[parts[0].lowercased()] = parts[1].trimmingCharacters(in: .whitespaces) }
        }
        let status = Int(head[0].split(separator: " ")[1]) ?? 0
        let length = Int(headers["content-length"] ?? "0") ?? 0
        let bodyStart = headerEnd! + 4
        while buffer.count < bodyStart + length { try fill() }
        let body = String(decoding: buffer[bodyStart..<bodyStart + length], as: UTF8.self)
        buffer.removeFirst(bodyStart + length)
        return (status, headers, body)
    }
}

@Suite("HTTP server over a real socket")
struct SocketTests {
    static func start(_ router: RouterBuilder, limits: HTTPLimits = HTTPLimits()) throws -> HTTPServer {
        let server = HTTPServer(
            application: HTTPApplication(router: router.build(), limits: limits),
            configuration: .init(host: "127.0.0.1", port: 0, limits: limits))
        try server.start()
        return server
    }

    @Test("one connection carries many requests, none with Connection: close")
    func keepAlive() throws {
        let router = RouterBuilder()
        router.get("/ping") { request, _ in try .json(["q": request.query["q"] ?? ""]) }
        router.post("/echo") { request, _ in HTTPResponse(status: 201, body: request.body) }
        let server = try Self.start(router)
        defer { server.shutdown() }
        let connection = try RawConnection(port: server.port)
        for index in 0..<5 {
            connection.send("GET /ping?q=\(index) HTTP/1.1\r\nHost: x\r\n\r\n")
            let response = try connection.readResponse()
            #expect(response.status == 200)
            #expect(response.body == #"{"q":"\#(index)"}"#)
            #expect(response.headers["connection"]?.lowercased() != "close")
            #expect(response.headers["x-request-id"] != nil)
        }
        let body = #"{"hello":"world"}"#
        connection.send(
            "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        )
        let posted = try connection.readResponse()
        #expect(posted.status == 201 && posted.body == body)
        #expect(posted.headers["connection"]?.lowercased() != "close")
    }

    @Test("a body over the limit is refused with 413 problem+json")
    func bodyLimit() throws {
        var limits = HTTPLimits()
        limits.maxBodyBytes = 1024
        let router = RouterBuilder()
        router.post("/echo") { request, _ in HTTPResponse(status: 200, body: request.body) }
        let server = try Self.start(router, limits: limits)
        defer { server.shutdown() }
        let connection = try RawConnection(port: server.port)
        let body = String(repeating: "x", count: 4096)
        connection.send(
            "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n\(body)")
        let response = try connection.readResponse()
        #expect(response.status == 413)
        #expect(response.headers["content-type"] == "application/problem+json")
    }

    @Test("oversized headers are refused, not buffered without bound")
    func headerLimit() throws {
        var limits = HTTPLimits()
        limits.connectionMemoryBytes = 8192
        let router = RouterBuilder()
        router.get("/ping") { _, _ in HTTPResponse(status: 200) }
        let server = try Self.start(router, limits: limits)
        defer { server.shutdown() }
        let connection = try RawConnection(port: server.port)
        connection.send("GET /ping HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "a", count: 16384))\r\n\r\n")
        let status = (try? connection.readResponse().status) ?? 0
        #expect(status == 431 || status == 0)  // 431, or the connection is closed
    }

    @Test("shutdown lets an in-flight request finish")
    func gracefulShutdown() throws {
        let router = RouterBuilder()
        let entered = DispatchSemaphore(value: 0)
        router.get("/slow") { _, _ in
            entered.signal()
            Thread.sleep(forTimeInterval: 0.3)
            return try .json(["done": true])
        }
        let server = try Self.start(router)
        let connection = try RawConnection(port: server.port)
        connection.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        entered.wait()
        let stopped = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            server.shutdown()
            stopped.signal()
        }
        let response = try connection.readResponse()
        #expect(response.status == 200)
        #expect(response.body == #"{"done":true}"#)
        stopped.wait()
        #expect(throws: (any Error).self) { try RawConnection(port: server.port) }
    }
}

@Suite("HTTPS")
struct TLSTests {
    @Test("served over TLS with a development CA, with HSTS; curl verifies the chain")
    func https() throws {
        let directory = NSTemporaryDirectory() + "rcm-tls-" + UUID().uuidString.prefix(8)
        try DevelopmentCertificates.writeDevelopmentSet(to: directory)
        let router = RouterBuilder()
        router.get("/ping") { _, _ in try .json(["pong": true]) }
        let configuration = HTTPServer.Configuration(
            host: "127.0.0.1", port: 0,
            tls: (
                try String(contentsOfFile: directory + "/server-key.pem", encoding: .utf8),
                try String(contentsOfFile: directory + "/server.pem", encoding: .utf8)
            ))
        let server = HTTPServer(application: HTTPApplication(router: router.build()), configuration: configuration)
        try server.start()
        defer { server.shutdown() }

        func curl(_ arguments: [String]) throws -> (status: Int32, output: String) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
            process.arguments = ["-s", "-i", "--max-time", "10"] + arguments
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = FileHandle.nullDevice
            try process.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (process.terminationStatus, String(decoding: data, as: UTF8.self))
        }
        let verified = try curl(["--cacert", directory + "/ca.pem", "https://localhost:\(server.port)/ping"])
        #expect(verified.status == 0)
        #expect(verified.output.contains(#"{"pong":true}"#))
        #expect(verified.output.lowercased().contains("strict-transport-security: max-age=31536000"))
        // Without trusting the CA, the chain is refused; plain HTTP gets no answer.
        #expect(try curl(["https://localhost:\(server.port)/ping"]).status != 0)
        #expect(try curl(["http://127.0.0.1:\(server.port)/ping"]).output.contains("pong") == false)
    }
}
