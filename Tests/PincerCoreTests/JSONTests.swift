@testable import PincerCore
import Testing

@Suite struct JSONTests {
    @Test func roundTripsKeepingKeyOrder() throws {
        let text = #"{"z":1,"a":[true,false,null,-2.5,"x\"\n\u0001é😀"],"m":{}}"#
        let value = try JSON.parse(text)
        #expect(value.description == #"{"z":1,"a":[true,false,null,-2.5,"x\"\n\u0001é😀"],"m":{}}"#)
        #expect(try JSON.parse(value.description) == value)
        #expect(try JSON.parse(#""\ud83d\ude00""#) == .string("😀"))
    }

    /// Strings are written by runs between escapes: escapes at either end, side by side, or none,
    /// every control character, and multi-byte characters next to an escape.
    @Test(arguments: ["", "plain", "\"", "\\", "\"quoted\"", "a\\b\\\\c", "\n\t\r", "é\"😀\"é", "end\u{7F}\u{1F}"]
                     + [String((0..<0x20).map { Character(Unicode.Scalar(UInt8($0))) })])
    func writesStringsByRunsBetweenEscapes(text: String) throws {
        let written = JSON.string(text).description
        #expect(try JSON.parse(written) == .string(text))
        #expect(!written.utf8.dropFirst().dropLast().contains { $0 < 0x20 }, "a control byte left bare in \(written)")
        var expected = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": expected += "\\\""
            case "\\": expected += "\\\\"
            case "\n": expected += "\\n"
            case "\r": expected += "\\r"
            case "\t": expected += "\\t"
            case _ where scalar.value < 0x20: expected += (scalar.value < 0x10 ? "\\u000" : "\\u00") + String(scalar.value, radix: 16)
            default: expected.unicodeScalars.append(scalar)
            }
        }
        #expect(written == expected + "\"")
    }

    @Test(arguments: [
        ("{\"a\":1,}", "line 1, column 8"),
        ("[1 2]", "expected ',' or ']'"),
        ("{\n  \"a\": tru\n}", "line 2, column 8: expected 'true'"),
        ("\"abc", "unterminated string"),
        ("0x", "unexpected text after the JSON value"),
        ("\"\\ud800\"", "unpaired surrogate"),
        (String(repeating: "[", count: 200), "nesting deeper than 128"),
    ])
    func reportsWhereAndWhyParsingFailed(text: String, message: String) {
        do {
            _ = try JSON.parse(text)
            Issue.record("parsed \(text)")
        } catch {
            #expect(error.description.contains(message), "\(error.description)")
        }
    }

    // Numbers: integers exact, everything else a finite Double, nothing RFC 8259 forbids.

    @Test(arguments: ["123456789012345678", "-9223372036854775808", "18446744073709551615", "9007199254740993", "-1", "0",
                      #"{"id":123456789012345678,"ids":[18446744073709551614,-9223372036854775807]}"#])
    func integersRoundTripExactly(text: String) throws {
        #expect(try JSON.parse(text).description == text)
    }

    @Test func buildingFromIntegersKeepsThemExact() throws {
        #expect(JSON(UInt64.max).description == "18446744073709551615")
        #expect(JSON(Int.min).description == "-9223372036854775808")
        #expect(JSON(UInt64.max) == (try JSON.parse("18446744073709551615")))
        #expect(JSON(1 << 62) == (try JSON.parse("4611686018427387904")))
    }

    @Test(arguments: [
        ("2.5", "2.5"), ("-0.125", "-0.125"), ("1e3", "1000"), ("1.5E300", "1.5e+300"), ("1e-7", "1e-07"),
        // A fraction or an exponent makes a Double, and so does an integer beyond UInt64.
        ("123456789012345678.0", "1.2345678901234568e+17"), ("18446744073709551616", "1.8446744073709552e+19"),
        ("-9223372036854775809", "-9.223372036854776e+18"),
    ])
    func otherNumbersAreTheNearestDouble(text: String, written: String) throws {
        #expect(try JSON.parse(text).description == written)
    }

    @Test(arguments: [
        ("01", "line 1, column 1: a number may not start with a leading zero"),
        ("-01", "line 1, column 1: a number may not start with a leading zero"),
        ("[1, 007]", "line 1, column 5: a number may not start with a leading zero"),
        ("1.", "expected digits after '.'"),
        (".5", "unexpected character '.'"),
        ("+1", "unexpected character '+'"),
        ("1e", "expected digits in an exponent"),
        ("1e999", "line 1, column 1: number out of range"),
        ("{\"a\":\n -1e400}", "line 2, column 2: number out of range"),
        ("1" + String(repeating: "0", count: 400), "line 1, column 1: number out of range"),
        ("NaN", "unexpected character 'N'"),
        ("Infinity", "unexpected character 'I'"),
        ("-Infinity", "expected digits in a number"),
    ])
    func refusesNumbersRFC8259Forbids(text: String, message: String) {
        do {
            let value = try JSON.parse(text)
            Issue.record("parsed \(text) as \(value)")
        } catch {
            #expect(error.description.contains(message), "\(error.description)")
        }
    }

    @Test func numbersAreEqualByValueAndExactly() throws {
        // JSON has one number type: 1 and 1.0 are the same value...
        #expect(try JSON.parse("1") == JSON.parse("1.0"))
        #expect(try JSON.parse("100") == 100)
        #expect(try JSON.parse("1e2") == 100)
        // ...but an integer equals a Double only when the Double is exactly it.
        #expect(try JSON.parse("9007199254740993") != JSON.parse("9007199254740992.0"))
        #expect(try JSON.parse("9007199254740992") == JSON.parse("9007199254740992.0"))
        #expect(try JSON.parse("18446744073709551615") != JSON.parse("18446744073709551616"))
        #expect(try JSON.parse("9223372036854775808") == JSON.parse("9.223372036854775808e18"))
        #expect(try JSON.parse("1") != JSON.parse("1.5"))
    }

    @Test func accessorsReadEveryKindOfNumber() throws {
        #expect(try JSON.parse("42").wholeNumber == 42)
        #expect(try JSON.parse("5.0").wholeNumber == 5)
        #expect(try JSON.parse("9007199254740993").wholeNumber == 9_007_199_254_740_993)
        #expect(try JSON.parse("-1").wholeNumber == nil)
        #expect(try JSON.parse("2.5").wholeNumber == nil)
        #expect(try JSON.parse("18446744073709551615").wholeNumber == nil)
        #expect(try JSON.parse("2.5").numberValue == 2.5)
        #expect(try JSON.parse("123456789012345678").numberValue == 123_456_789_012_345_678.0)
        #expect(try JSON.parse("-9223372036854775808").numberValue == -9.223372036854775808e18)
        #expect(try JSON.parse("7").typeName == "number")
    }
}

@Suite struct JSONHeldBytesTests {
    /// heldBytes counts what a value holds without rendering it; for plain values it is about the
    /// rendered size, never far below it (the retention budget relies on that).
    @Test func heldBytesIsAboutTheRenderedSize() throws {
        for text in [#"{"a":"x","b":[1,2,3],"c":{"d":null,"e":true}}"#, #""a plain string""#, #"[]"#,
                     #"{"text":"\#(String(repeating: "word ", count: 1000))"}"#] {
            let value = try JSON.parse(text)
            let rendered = value.description.utf8.count
            #expect(value.heldBytes >= rendered / 2 && value.heldBytes <= rendered * 3, "\(text.prefix(40)): \(value.heldBytes) vs \(rendered)")
        }
    }
}

@Suite struct HexTests {
    @Test func padsToTheDigitsAskedAndNeverCuts() {
        #expect(Hex.string(0, digits: 2) == "00")
        #expect(Hex.string(0x1f, digits: 4) == "001f")
        #expect(Hex.string(0x2028, digits: 2) == "2028")
        #expect(Hex.string(0xabc, digits: 0) == "abc")
        #expect(Hex.string(UInt64.max, digits: 12) == "ffffffffffffffff")
    }
}
