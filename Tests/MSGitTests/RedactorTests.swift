import HTTP
import Testing
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
}
