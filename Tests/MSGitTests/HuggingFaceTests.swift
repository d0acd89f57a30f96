import Foundation
import HTTP
import Testing
@testable import MSGit
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Issue 25: Hugging Face's URLs and short names, as the hub and huggingface_hub write them.
@Suite struct HuggingFaceNameTests {
    @Test func shortNamesExpandToTheURLsTheHubShows() {
        let cases = [
            ("hf:org/name", "https://huggingface.co/org/name"),
            ("hf:datasets/org/name", "https://huggingface.co/datasets/org/name"),
            ("hf:spaces/org/name", "https://huggingface.co/spaces/org/name"),
            ("hf:models/org/name", "https://huggingface.co/org/name"),
            ("hf://datasets/org/name", "https://huggingface.co/datasets/org/name"),
            ("hf://org/name", "https://huggingface.co/org/name"),
            ("HF:Qwen/Qwen2.5-7B-Instruct", "https://huggingface.co/Qwen/Qwen2.5-7B-Instruct"),
            ("hf:meta-llama/Llama-3.1-8B.git", "https://huggingface.co/meta-llama/Llama-3.1-8B"),
            (" hf:org/under_score ", "https://huggingface.co/org/under_score"),
        ]
        for (input, url) in cases {
            #expect(ShortNames.expand(input, environment: [:]) == url, "\(input)")
        }
    }

    @Test func hfEndpointMovesThemAndOnlyThem() {
        #expect(ShortNames.expand("hf:org/name", environment: ["HF_ENDPOINT": "http://127.0.0.1:9/"]) == "http://127.0.0.1:9/org/name")
        #expect(ShortNames.expand("hf:spaces/a/b", environment: ["HF_ENDPOINT": "hf-mirror.com"]) == "https://hf-mirror.com/spaces/a/b")
        #expect(ShortNames.expand("hf:a/b", environment: ["HF_ENDPOINT": " "]) == "https://huggingface.co/a/b")
        #expect(ShortNames.expand("hf:a/b", environment: ["MSGIT_ENDPOINT": "http://ms.example"]) == "https://huggingface.co/a/b")
        #expect(ShortNames.expand("a/b", environment: ["HF_ENDPOINT": "http://hf.example"]) == "https://www.modelscope.cn/a/b.git")
        #expect(HuggingFace.endpoint(environment: [:]) == HuggingFace.defaultEndpoint)
    }

    @Test(arguments: [
        ("hf:../x", "may not start or end"),
        ("hf:x/..", "may not start or end"),
        ("hf:org/name/extra", "'extra' would be a path inside it"),
        ("hf:datasets/org/name/extra/more", "'extra/more' would be a path inside it"),
        ("hf:org/name/", "an empty part"),
        ("hf:%2e%2e/x", "may hold only letters"),
        ("hf:org/na%2Fme", "may hold only letters"),
        ("hf:org%2Fname", "a repository is org/name"),
        ("hf:org/name@main", "a revision has no place"),
        ("hf://datasets/org/name@refs/pr/1", "a revision has no place"),
        ("hf:org", "a repository is org/name"),
        ("hf:datasets/org", "a repository is org/name"),
        ("hf:", "a repository is org/name"),
        ("hf:/org/name", "an empty part"),
        ("hf:org//name", "an empty part"),
        ("hf:-org/name", "may not start or end"),
        ("hf:org/name.", "may not start or end"),
        ("hf:org/a--b", "may not hold '--' or '..'"),
        ("hf:org/a..b", "may not hold '--' or '..'"),
        ("hf:org/na me", "may hold only letters"),
        ("hf:org/näme", "may hold only letters"),
        ("hf:org/name?x=1", "may hold only letters"),
        ("hf:org/name#x", "may hold only letters"),
        ("hf:org\\name/x", "may hold only letters"),
        ("hf:kernels/org/name", "not kernels"),
        ("hf:buckets/org/name", "not buckets"),
        ("hf:org/" + String(repeating: "n", count: 93), "longer than 96"),
    ])
    func hostileNamesAreRefusedAndSayWhy(input: String, reason: String) {
        #expect(ShortNames.expand(input, environment: [:]) == input, "left alone, as other input")
        #expect {
            _ = try RemoteURL.resolving(input)
        } throws: { error in
            guard let error = error as? MSGitError, error.kind == .invalidArgument else { return false }
            return error.message.contains("names no Hugging Face repository") && error.message.contains(reason)
        }
    }

    @Test func theLongestIdIsTaken() throws {
        let name = String(repeating: "n", count: 92)
        #expect(try HuggingFaceName("hf:org/\(name)").id == "org/\(name)")
    }

    @Test func aShortNameIsNoURL() {
        #expect {
            _ = try RemoteURL("hf:org/name")
        } throws: { error in
            (error as? MSGitError)?.message.contains("'hf:org/name' is a short name, not a URL") == true
        }
    }

    @Test func parsedNamesSayWhatTheyAre() throws {
        let name = try HuggingFaceName("hf://datasets/org/name.git")
        #expect(name.kind == .dataset && name.id == "org/name")
        #expect(name.description == "hf:datasets/org/name")
        #expect(name.url(endpoint: "http://h:1/") == "http://h:1/datasets/org/name")
        #expect(try HuggingFaceName("hf:models/a/b").description == "hf:a/b")
    }

    @Test func urlsWithoutDotGitNameTheCloneAsGitDoes() throws {
        #expect(try RemoteURL.resolving("hf:org/Llama-3.1-8B").humanishName == "Llama-3.1-8B")
        #expect(try RemoteURL("https://huggingface.co/datasets/org/squad").humanishName == "squad")
        #expect(try RemoteURL("https://huggingface.co/org/name/").humanishName == "name")
        #expect(try RemoteURL("https://huggingface.co/org/name/.git").humanishName == "name")
        #expect(try RemoteURL("https://huggingface.co/org/name.git/").humanishName == "name")
        #expect(try RemoteURL("http://hf.co/org/name").string == "https://hf.co/org/name", "hf.co serves https only")
    }

    @Test func mirrorsOfHuggingFaceURLsGoWhereTheirNamesSay() throws {
        let model = try RemoteURL("https://huggingface.co/org/name")
        let dataset = try RemoteURL("https://huggingface.co/datasets/org/name")
        #expect(try MirrorJob.relativeLocation(of: model) == "huggingface.co/org/name.git")
        #expect(try MirrorJob.relativeLocation(of: dataset) == "huggingface.co/datasets/org/name.git")
        #expect(try MirrorJob.expand("https://hub.example/{ns}/{name}.git", for: model) == "https://hub.example/org/name.git")
        #expect(try MirrorJob.expand("https://hub.example/{ns}/{name}.git", for: dataset)
            == "https://hub.example/datasets/org/name.git")
    }
}
