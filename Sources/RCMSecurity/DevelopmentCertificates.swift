import CSecurityShim
import Foundation

/// A local certificate authority and a server certificate it signs, for HTTPS in development
/// (`rcm certs dev`). Trust `ca.pem` in your client; never use these in production.
public enum DevelopmentCertificates {
    public struct Issued: Sendable {
        public let key: String
        public let certificate: String
    }

    public static func issue(
        commonName: String, subjectAltNames: String? = nil, days: Int, issuer: Issued? = nil
    ) throws -> Issued {
        var key: UnsafeMutablePointer<CChar>?
        var certificate: UnsafeMutablePointer<CChar>?
        let status = rcm_issue_certificate(
            commonName, subjectAltNames, Int32(days), issuer?.key, issuer?.certificate, &key, &certificate)
        defer {
            rcm_free(key)
            rcm_free(certificate)
        }
        guard status == 0, let key, let certificate else { throw SecurityError("certificate issuance failed") }
        return Issued(key: String(cString: key), certificate: String(cString: certificate))
    }

    /// Writes `ca.pem`, `ca-key.pem`, `server.pem` and `server-key.pem` (keys mode 0600) into `directory`.
    public static func writeDevelopmentSet(to directory: String, hosts: [String] = ["localhost", "127.0.0.1"]) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let authority = try issue(commonName: "rcm development CA", days: 3650)
        let names = hosts.map { $0.allSatisfy { $0.isNumber || $0 == "." || $0 == ":" } ? "IP:\($0)" : "DNS:\($0)" }
        let server = try issue(
            commonName: hosts.first ?? "localhost", subjectAltNames: names.joined(separator: ","), days: 825,
            issuer: authority)
        for (name, content, mode) in [
            ("ca.pem", authority.certificate, 0o644), ("ca-key.pem", authority.key, 0o600),
            ("server.pem", server.certificate, 0o644), ("server-key.pem", server.key, 0o600),
        ] {
            let path = directory + "/" + name
            guard
                FileManager.default.createFile(
                    atPath: path, contents: Data(content.utf8), attributes: [.posixPermissions: mode])
            else { throw SecurityError("cannot write \(path)") }
        }
    }
}
