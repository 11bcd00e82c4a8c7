import Foundation
import RCMCore
import Synchronization

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// W3C Trace Context (`traceparent`) of one request in this process: the trace it belongs to,
/// this process's span for it, the caller's span, and whether the trace is sampled (exported).
public struct TraceContext: Sendable, Equatable {
    /// 32 lower-case hex digits.
    public var traceId: String
    /// 16 lower-case hex digits: this request's span in this process.
    public var spanId: String
    /// The caller's span, when the request came with a `traceparent`.
    public var parentSpanId: String?
    public var sampled: Bool

    /// `00-<trace id>-<span id>-<flags>`: what goes out with calls made while serving the request.
    public var traceparent: String { "00-\(traceId)-\(spanId)-\(sampled ? "01" : "00")" }

    /// Continues the caller's trace (keeping its sampling decision), or starts one (sampled with
    /// probability `ratio`) when the header is missing or malformed.
    public static func incoming(_ header: String?, ratio: Double) -> TraceContext {
        if let header, let parsed = parse(header) {
            return TraceContext(
                traceId: parsed.traceId, spanId: Tracing.newId(bytes: 8), parentSpanId: parsed.spanId,
                sampled: parsed.sampled)
        }
        let sampled = ratio >= 1 || (ratio > 0 && Double.random(in: 0..<1) < ratio)
        return TraceContext(
            traceId: Tracing.newId(bytes: 16), spanId: Tracing.newId(bytes: 8), parentSpanId: nil, sampled: sampled)
    }

    /// The parts of a version-00 `traceparent`; nil when it is not one (all-zero ids are invalid).
    public static func parse(_ header: String) -> (traceId: String, spanId: String, sampled: Bool)? {
        // Byte by byte: `00-<32 hex>-<16 hex>-<2 hex>`, lower-case, surrounding spaces and tabs
        // allowed (every call between services carries one, so no Foundation string work here).
        var bytes = Substring(header).utf8[...]
        while let first = bytes.first, first == 0x20 || first == 0x09 { bytes = bytes.dropFirst() }
        while let last = bytes.last, last == 0x20 || last == 0x09 { bytes = bytes.dropLast() }
        let text = Array(bytes)
        guard text.count == 55, text[0] == 0x30, text[1] == 0x30, text[2] == 0x2D, text[35] == 0x2D, text[52] == 0x2D
        else { return nil }
        func isHex(_ range: Range<Int>) -> Bool {
            text[range].allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
        }
        guard isHex(3..<35), isHex(36..<52), isHex(53..<55),
            text[3..<35].contains(where: { $0 != 0x30 }), text[36..<52].contains(where: { $0 != 0x30 })
        else { return nil }
        let flags = text[54] <= 0x39 ? text[54] - 0x30 : text[54] - 0x61 + 10
        return (
            String(decoding: text[3..<35], as: UTF8.self), String(decoding: text[36..<52], as: UTF8.self),
            flags & 1 == 1
        )
    }
}

/// Span export over OTLP/HTTP with JSON bodies (what Jaeger and the OpenTelemetry Collector accept
/// at `/v1/traces`): spans are buffered and posted in batches by one background thread.
public enum Tracing {
    struct Settings {
        var endpoint: URL?
        var serviceName = "rcm"
        var ratio = 0.0
    }

    private static let settings = Mutex(Settings())
    private static let buffer = Mutex<[Span]>([])
    private static let started = Atomic<Bool>(false)
    private static let wake = DispatchSemaphore(value: 0)

    /// Spans are exported to `endpoint` (e.g. `http://127.0.0.1:4318/v1/traces`); new traces are
    /// sampled with probability `ratio` (a caller's decision is kept).
    public static func configure(endpoint: URL?, serviceName: String, ratio: Double) {
        settings.withLock {
            $0.endpoint = endpoint
            $0.serviceName = serviceName
            $0.ratio = max(0, min(1, ratio))
        }
        if endpoint != nil, !started.exchange(true, ordering: .acquiringAndReleasing) {
            Thread.detachNewThread {
                while true {
                    _ = wake.wait(timeout: .now() + 1)
                    flush()
                }
            }
        }
    }

    public static var sampleRatio: Double { settings.withLock { $0.ratio } }

    /// One finished span.
    public struct Span: Sendable {
        public var name: String
        public var context: TraceContext
        /// 2 server, 3 client, 4 producer, 5 consumer (OTLP SpanKind).
        public var kind: Int
        public var startNanos: UInt64
        public var endNanos: UInt64
        public var attributes: [(String, String)]
        public var error: Bool
    }

    /// Records a finished span when its trace is sampled and an exporter is configured.
    public static func record(_ span: Span) {
        guard span.context.sampled, settings.withLock({ $0.endpoint != nil }) else { return }
        let full = buffer.withLock { spans -> Bool in
            if spans.count < 10_000 { spans.append(span) }  // bounded: a dead collector costs memory, not the process
            return spans.count >= 512
        }
        if full { wake.signal() }
    }

    /// Posts the buffered spans now (the background thread does it every second).
    public static func flush() {
        let spans = buffer.withLock { spans -> [Span] in
            defer { spans.removeAll(keepingCapacity: true) }
            return spans
        }
        let current = settings.withLock { $0 }
        guard !spans.isEmpty, let endpoint = current.endpoint else { return }
        var request = URLRequest(url: endpoint, timeoutInterval: 5)
        request.httpMethod = "POST"
        request.addValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(otlpJSON(spans, serviceName: current.serviceName).utf8)
        let done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: request) { _, _, _ in done.signal() }.resume()
        _ = done.wait(timeout: .now() + 6)
    }

    /// The OTLP/JSON `ExportTraceServiceRequest` of some spans (ids as hex, times as strings).
    public static func otlpJSON(_ spans: [Span], serviceName: String) -> String {
        func string(_ text: String) -> String {
            var escaped = "\""
            for scalar in text.unicodeScalars {
                switch scalar {
                case "\"": escaped += "\\\""
                case "\\": escaped += "\\\\"
                case _ where scalar.value < 0x20: escaped += String(format: "\\u%04x", scalar.value)
                default: escaped.unicodeScalars.append(scalar)
                }
            }
            return escaped + "\""
        }
        func attribute(_ key: String, _ value: String) -> String {
            "{\"key\":\(string(key)),\"value\":{\"stringValue\":\(string(value))}}"
        }
        let rendered = spans.map { span -> String in
            var fields = [
                "\"traceId\":\"\(span.context.traceId)\"", "\"spanId\":\"\(span.context.spanId)\"",
                "\"name\":\(string(span.name))", "\"kind\":\(span.kind)",
                "\"startTimeUnixNano\":\"\(span.startNanos)\"", "\"endTimeUnixNano\":\"\(span.endNanos)\"",
                "\"attributes\":[" + span.attributes.map { attribute($0.0, $0.1) }.joined(separator: ",") + "]",
                "\"status\":{\"code\":\(span.error ? 2 : 1)}",
            ]
            if let parent = span.context.parentSpanId { fields.append("\"parentSpanId\":\"\(parent)\"") }
            return "{" + fields.joined(separator: ",") + "}"
        }
        return "{\"resourceSpans\":[{\"resource\":{\"attributes\":[" + attribute("service.name", serviceName)
            + "]},\"scopeSpans\":[{\"scope\":{\"name\":\"rcm\"},\"spans\":[" + rendered.joined(separator: ",")
            + "]}]}]}"
    }

    /// The path with every segment that holds a digit replaced by `{id}`: spans name the route,
    /// never a patient's or invoice's identifier.
    public static func maskedPath(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: false)
            .map { $0.contains(where: \.isNumber) ? "{id}" : String($0) }.joined(separator: "/")
    }

    /// Nanoseconds since 1970 (OTLP's clock).
    public static func nowNanos() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }

    /// `bytes` random-looking bytes as hex, from `UniqueWords` (ids must be unique, not secret; no
    /// system call per request).
    static func newId(bytes: Int) -> String {
        let words = (bytes + 7) / 8
        return String(unsafeUninitializedCapacity: words * 16) { text in
            for word in 0..<words {
                Hex.write(UniqueWords.next() | 1, into: text, at: word * 16)  // never all zeros
            }
            return bytes * 2
        }
    }
}
