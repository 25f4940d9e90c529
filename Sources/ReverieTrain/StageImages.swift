import ReverieCore
import ReverieData
import ReverieRuntime

/// Pixels of a stage's images.
enum StageImages {
    /// `refs` loaded by `loader` → [B, 3, N, N] in [0, 1]
    static func pixels(_ refs: [ImageRef], _ loader: any ImageLoader) throws -> Tensor {
        try concat(refs.map { try loader.load($0).unsqueeze(0) }, axis: 0)
    }
}
