/// A small RFC 4180 reader: comma-separated fields, double quotes around fields that hold commas,
/// quotes (doubled) or line breaks; CRLF or LF line ends; a leading byte-order mark is skipped.
enum CSV {
    /// The records of `text` with the line each starts on; blank lines are skipped.
    static func records(_ text: String) throws -> [(line: Int, fields: [String])] {
        var records: [(line: Int, fields: [String])] = []
        var fields: [String] = []
        var field: [UInt8] = []
        var quoted = false
        var afterQuote = false
        var line = 1
        var recordLine = 1
        var bytes = Array(text.utf8)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        func endField() {
            fields.append(String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
            afterQuote = false
        }
        func endRecord() {
            endField()
            if !(fields.count == 1 && fields[0].isEmpty) { records.append((recordLine, fields)) }
            fields.removeAll()
            recordLine = line
        }
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if quoted {
                if byte == UInt8(ascii: "\"") {
                    if index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "\"") {
                        field.append(byte)
                        index += 1
                    } else {
                        quoted = false
                        afterQuote = true
                    }
                } else {
                    if byte == UInt8(ascii: "\n") { line += 1 }
                    field.append(byte)
                }
            } else {
                switch byte {
                case UInt8(ascii: ","):
                    endField()
                case UInt8(ascii: "\n"):
                    line += 1
                    endRecord()
                case UInt8(ascii: "\r"):
                    break
                case UInt8(ascii: "\""):
                    guard field.isEmpty, !afterQuote else {
                        throw CodeFileError(line: line, message: "a quote inside an unquoted field")
                    }
                    quoted = true
                default:
                    if afterQuote { throw CodeFileError(line: line, message: "text after a closing quote") }
                    field.append(byte)
                }
            }
            index += 1
        }
        if quoted { throw CodeFileError(line: recordLine, message: "a quoted field is not closed") }
        if !field.isEmpty || !fields.isEmpty { endRecord() }
        return records
    }
}
