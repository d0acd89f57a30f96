import Foundation
import HTTP
import Testing
@testable import Credentials
@testable import MSGit

@Suite struct RedactorTests {
    @Test func registeredSecretsAreMaskedAnywhere() {
        let redactor = Redactor()
        redactor.register("tok-12345678")
        #expect(redactor.redact("sent tok-12345678 twice: tok-12345678") == "sent *** twice: ***")
    }

    @Test func shortStringsAreNotSecrets() {
        let redactor = Redactor()
        redactor.register("ab")
        #expect(redactor.redact("about abc") == "about abc")
    }

    @Test func userinfoIsMasked() {
        let r = Redactor()
        #expect(r.redact("cloning https://oauth2:abc@host/x.git") == "cloning https://***@host/x.git")
        #expect(r.redact("https://ghp_123@github.com/x") == "https://***@github.com/x")
    }

    @Test func presignedQueryParametersAreMasked() {
        let r = Redactor()
        let s3 = "https://b.s3.amazonaws.com/o?X-Amz-Algorithm=AWS4&X-Amz-Credential=AKIA/x&X-Amz-Signature=deadbeef&x-id=GetObject"
        let out = r.redact(s3)
        #expect(!out.contains("deadbeef") && !out.contains("AKIA"))
        #expect(out.contains("X-Amz-Algorithm=AWS4") && out.contains("x-id=GetObject"))
        #expect(r.redact("http://h/o?expires=1&sig=abc_DEF-1") == "http://h/o?expires=1&sig=***")
        #expect(r.redact("https://h/o?sv=2020&se=2030&sig=xyz%3D") == "https://h/o?sv=2020&se=***&sig=***")
        #expect(r.redact("u?token=a.b.c&jwt=zzz") == "u?token=***&jwt=***")
    }

    @Test func authorizationValuesAreMasked() {
        let r = Redactor()
        #expect(r.redact("Authorization: Basic b2F1dGgyOnRvaw==") == "Authorization: Basic ***")
        #expect(r.redact("authorization=\"Bearer eyJhbGci.x.y\"") == "authorization=\"Bearer ***\"")
    }

    /// The command line's handler redacts and so does the client's `MaskingLogHandler`: a line
    /// redacted twice must read as it did after once ("Basic ***", not "*** ******w==").
    @Test func redactingTwiceChangesNothing() {
        let r = Redactor()
        r.register("hubtok-0123456789abcdef")
        let basic = Data("oauth2:hubtok-0123456789abcdef".utf8).base64EncodedString()
        for line in ["seen Authorization: Basic \(basic)", "Authorization: Bearer hubtok-0123456789abcdef",
                     "https://oauth2:hubtok-0123456789abcdef@h/x?sig=abc", "declined: \(basic)"] {
            let once = r.redact(line)
            #expect(r.redact(once) == once, "\(line)")
            #expect(!once.contains("hubtok") && !once.contains("MDEyMzQ1Njc4OWFiY2RlZg"))
        }
        #expect(r.redact("seen Authorization: Basic \(basic)") == "seen Authorization: Basic ***")
    }

    @Test func everyEncodedFormOfAHeldTokenIsMasked() {
        let redactor = Redactor()
        let token = "ms-Tok/en+9z=Q1w2e3r4"
        redactor.register(token)
        let basic = Data("oauth2:\(token)".utf8).base64EncodedString()
        let echoes = [
            "HTTP Basic: Access denied for \(basic)",                                  // a 401 body
            "{\"message\":\"credentials \(basic.replacingOccurrences(of: "+", with: "-")) refused\"}",  // URL-safe
            "remote: seen \(Data("x-token:\(token)".utf8).base64EncodedString()) in your push",  // another user name
            "remote: \(Data(token.utf8).base64EncodedString())",                       // the token alone
            "https://h/x?next=\(token.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)",
            "%\(token.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!.lowercased())",
            "plain \(token)",
        ]
        for echo in echoes {
            let out = redactor.redact(echo)
            #expect(!out.contains(token) && !out.contains(basic), "\(out)")
            // Nothing long enough to decode back: no run of 8 base64 characters of the token remains.
            let core = Data(token.utf8).base64EncodedString().dropLast(4)
            #expect(!out.contains(String(core.prefix(12))), "\(out)")
        }
        #expect(redactor.redact("nothing secret here: b2F1dGgy, %2F, abc") == "nothing secret here: b2F1dGgy, %2F, abc")
    }
}
