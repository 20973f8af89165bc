import FakeOpenAI
import XCTest

extension XCTestCase {
    /// A HELLOTUNE_HOME and a fake OpenAI service accepting `key`, for this test alone: the service is stopped,
    /// then the folder removed, when the test ends.
    func openAIHome(key: String) throws -> (home: URL, service: FakeOpenAIService) {
        let home = try temporaryHome()
        return (home, try startFakeOpenAIService(apiKey: key))
    }
}
