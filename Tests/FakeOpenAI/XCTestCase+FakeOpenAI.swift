import XCTest

extension XCTestCase {
    /// A fake OpenAI service for this test alone that accepts `apiKey`; it is stopped when the test ends.
    public func startFakeOpenAIService(apiKey: String) throws -> FakeOpenAIService {
        let service = try FakeOpenAIService(apiKey: apiKey)
        addTeardownBlock { service.stop() }
        return service
    }
}
