import Foundation
import RCMCore
import Synchronization

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// HTTP calls to systems outside the platform (payers, clearinghouses, gateways), with a hard
/// deadline: the caller gets an answer or `OutboundHTTP.Failure` in at most `timeout`, never a hang.
public enum OutboundHTTP {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public enum Kind: Sendable { case timeout, unreachable, badURL }
        public let kind: Kind
        public let description: String
    }

    /// Sends one request and waits at most `timeout` seconds for the whole answer.
    public static func send(
        method: String, url: String, headers: [(String, String)], body: [UInt8], timeout: TimeInterval
    ) throws -> HTTPResponse {
        guard let target = URL(string: url), target.scheme == "http" || target.scheme == "https" else {
            throw Failure(kind: .badURL, description: "not an http(s) URL: \(url)")
        }
        var request = URLRequest(url: target, timeoutInterval: timeout)
        request.httpMethod = method
        for (name, value) in headers { request.addValue(value, forHTTPHeaderField: name) }
        if !body.isEmpty { request.httpBody = Data(body) }
        let outcome = Mutex<Result<HTTPResponse, Failure>?>(nil)
        let done = DispatchSemaphore(value: 0)
        let task = URLSession.shared.dataTask(with: request) { data, response, error in
            let result: Result<HTTPResponse, Failure>
            if let http = response as? HTTPURLResponse {
                var fields = HTTPHeaders()
                for (key, value) in http.allHeaderFields {
                    fields.add(String(describing: key), String(describing: value))
                }
                result = .success(HTTPResponse(status: http.statusCode, headers: fields, body: Array(data ?? Data())))
            } else if let error = error as? URLError, error.code == .timedOut {
                result = .failure(Failure(kind: .timeout, description: "no answer within \(timeout) s"))
            } else {
                result = .failure(
                    Failure(kind: .unreachable, description: "\(target.host ?? url) could not be reached"))
            }
            outcome.withLock { $0 = result }
            done.signal()
        }
        task.resume()
        if done.wait(timeout: .now() + timeout + 0.05) == .timedOut {
            task.cancel()
            throw Failure(kind: .timeout, description: "no answer within \(timeout) s")
        }
        switch outcome.withLock({ $0 }) {
        case .success(let response): return response
        case .failure(let failure): throw failure
        case nil: throw Failure(kind: .unreachable, description: "no answer")
        }
    }
}

/// A circuit breaker per target: after `threshold` consecutive failures calls are refused for
/// `openFor` seconds, then one trial call is let through (half-open); a success closes it again.
public final class CircuitBreaker: Sendable {
    public enum State: String, Sendable { case closed, open, halfOpen = "half_open" }

    struct Entry {
        var failures = 0
        var openedAt: Date?
        var trialInFlight = false
    }

    let threshold: Int
    let openFor: TimeInterval
    private let entries = Mutex<[String: Entry]>([:])

    public init(threshold: Int = 5, openFor: TimeInterval = 30) {
        self.threshold = threshold
        self.openFor = openFor
    }

    /// Whether a call to `target` may go out now.
    public func allow(_ target: String, now: Date = Date()) -> Bool {
        entries.withLock { entries in
            var entry = entries[target, default: Entry()]
            defer { entries[target] = entry }
            guard let opened = entry.openedAt else { return true }
            if now.timeIntervalSince(opened) < openFor || entry.trialInFlight { return false }
            entry.trialInFlight = true
            return true
        }
    }

    public func recordSuccess(_ target: String) {
        entries.withLock { $0[target] = Entry() }
    }

    public func recordFailure(_ target: String, now: Date = Date()) {
        entries.withLock { entries in
            var entry = entries[target, default: Entry()]
            entry.failures += 1
            if entry.trialInFlight || entry.failures >= threshold {
                entry.openedAt = now
                entry.trialInFlight = false
            }
            entries[target] = entry
        }
    }

    public func state(_ target: String, now: Date = Date()) -> State {
        entries.withLock { entries in
            guard let opened = entries[target]?.openedAt else { return .closed }
            return now.timeIntervalSince(opened) < openFor ? .open : .halfOpen
        }
    }
}

/// `multipart/form-data` (RFC 7578) with text fields only: what CAQH CORE real-time connectivity
/// exchanges (PayloadType, ProcessingMode, PayloadID, TimeStamp, SenderID, ReceiverID,
/// CORERuleVersion, Payload).
public enum MultipartForm {
    public static func encode(_ fields: [(String, String)], boundary: String) -> [UInt8] {
        var text = ""
        for (name, value) in fields {
            text += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n"
        }
        text += "--\(boundary)--\r\n"
        return Array(text.utf8)
    }

    /// The boundary named by a `Content-Type: multipart/...; boundary=...` header.
    public static func boundary(of contentType: String?) -> String? {
        guard let contentType, contentType.lowercased().hasPrefix("multipart/") else { return nil }
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            if pair.count == 2, pair[0].lowercased() == "boundary" {
                return pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
        }
        return nil
    }

    /// The fields of a multipart body; nil when it is not well formed.
    public static func decode(_ body: [UInt8], boundary: String) -> [String: String]? {
        let text = String(decoding: body, as: UTF8.self)
        var fields: [String: String] = [:]
        let parts = text.components(separatedBy: "--" + boundary)
        guard parts.count >= 2, parts.last?.hasPrefix("--") == true else { return nil }
        for part in parts.dropFirst().dropLast() {
            guard let split = part.range(of: "\r\n\r\n") else { return nil }
            let head = part[part.startIndex..<split.lowerBound]
            var value = String(part[split.upperBound...])
            if value.hasSuffix("\r\n") { value.removeLast() }  // "\r\n" is one Character
            guard let nameRange = head.range(of: "name=\"") else { return nil }
            let rest = head[nameRange.upperBound...]
            guard let end = rest.firstIndex(of: "\"") else { return nil }
            fields[String(rest[..<end])] = value
        }
        return fields
    }
}
