import Foundation
import Testing
@testable import Credentials
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

    @Test func datasetsLiveOneLevelDeeper() {
        #expect(ShortNames.expand("datasets/ns/name", environment: [:]) == "https://www.modelscope.cn/datasets/ns/name.git")
        #expect(ShortNames.expand("datasets/ns/name.git", environment: ["MSGIT_ENDPOINT": "http://127.0.0.1:9"])
            == "http://127.0.0.1:9/datasets/ns/name.git")
        #expect(ShortNames.expand("datasets/name", environment: [:]) == "https://www.modelscope.cn/datasets/name.git",
                "a model whose namespace is 'datasets'")
        for input in ["models/ns/name", "datasets/ns/", "datasets//name", "datasets/ns/a/b"] {
            #expect(ShortNames.expand(input, environment: [:]) == input, "\(input)")
        }
    }

    @Test func msgitEndpointThenModelScopeEndpointThenDomain() {
        let all = ["MSGIT_ENDPOINT": "http://a.example", "MODELSCOPE_ENDPOINT": "https://b.example",
                   "MODELSCOPE_DOMAIN": "c.example"]
        #expect(ShortNames.endpoint(environment: all) == "http://a.example")
        #expect(ShortNames.endpoint(environment: all.filter { $0.key != "MSGIT_ENDPOINT" }) == "https://b.example")
        #expect(ShortNames.endpoint(environment: ["MODELSCOPE_DOMAIN": "c.example"]) == "https://c.example")
        #expect(ShortNames.endpoint(environment: ["MODELSCOPE_ENDPOINT": " "]) == ShortNames.defaultEndpoint)
    }

    @Test func otherInputIsLeftAlone() {
        for input in ["https://h/a/b.git", "a", "a/b/c", "/a/b", "a/../b", "git@h:a/b", "../b", "a b/c"] {
            #expect(ShortNames.expand(input, environment: [:]) == input, "\(input)")
        }
    }
}
