import Foundation
import Testing
@testable import MSGit

@Suite struct ShortNameTests {
    @Test func namespaceSlashNameIsAModelScopeRepository() {
        #expect(ShortNames.expand("qwen/Qwen2-7B", environment: [:]) == "https://www.modelscope.cn/qwen/Qwen2-7B.git")
        #expect(ShortNames.expand("ns/name.git", environment: [:]) == "https://www.modelscope.cn/ns/name.git")
    }

    @Test func endpointAndDomainAsTheSDKsDo() {
        #expect(ShortNames.expand("a/b", environment: ["MODELSCOPE_DOMAIN": "www.modelscope.ai"])
            == "https://www.modelscope.ai/a/b.git")
        #expect(ShortNames.expand("a/b", environment: ["MSGIT_ENDPOINT": "http://127.0.0.1:8080/",
                                                       "MODELSCOPE_DOMAIN": "ignored.example"])
            == "http://127.0.0.1:8080/a/b.git")
    }

    @Test func otherInputIsLeftAlone() {
        for input in ["https://h/a/b.git", "a", "a/b/c", "/a/b", "a/../b", "git@h:a/b", "../b", "a b/c"] {
            #expect(ShortNames.expand(input, environment: [:]) == input, "\(input)")
        }
    }
}
