import FakeOpenAI
import Backends

extension FakeOpenAIService {
    /// The engine's client of this service, with its key: a short timeout and no retries, so a failure shows at once.
    func client() -> OpenAIClient {
        OpenAIClient(configuration: OpenAIConfiguration(apiKey: apiKey, baseURL: baseURL, timeout: 10, maxRetries: 0))
    }
}
