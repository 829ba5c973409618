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

    @Test(arguments: [
        ("{\"a\":1,}", "line 1, column 8"),
        ("[1 2]", "expected ',' or ']'"),
        ("{\n  \"a\": tru\n}", "line 2, column 8: expected 'true'"),
        ("\"abc", "unterminated string"),
        ("01x", "unexpected text after the JSON value"),
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
}
