import Foundation
import ReverieCore
import ReverieIO

/// Loads `ImageRef.file` references from PNG or JPEG files through `ReverieIO`: decode (by magic bytes),
/// convert to RGB, bring to `size × size`, scale to [0, 1] and optionally normalise (`ImagePreprocessing`).
/// Plug it into ``SceneImageLoader`` as `files` so manifests may mix rendered scenes and image files.
public struct FileImageLoader: ImageLoader {
    public let preprocessing: ImagePreprocessing

    public init(preprocessing: ImagePreprocessing) {
        self.preprocessing = preprocessing
    }

    /// Square images of `size` pixels, resized straight (bicubic, as Pillow), values in [0, 1].
    public init(size: Int, filter: ResampleFilter = .bicubic) {
        self.init(preprocessing: ImagePreprocessing(size: size, fit: .stretch, filter: filter))
    }

    /// `[3, size, size]` for a file reference. A file that cannot be read or decoded throws
    /// ``DatasetError/badImage(file:reason:)`` naming it (so a loader with `skipBad` counts and skips it);
    /// a scene reference is not a file and throws too.
    public func load(_ ref: ImageRef) throws -> Tensor {
        guard case .file(let url) = ref else {
            throw DatasetError.badImage(
                file: "<scene>", reason: "FileImageLoader reads files; render scenes with SceneImageLoader")
        }
        do {
            return try preprocessing.load(url)
        } catch let error as ImageError {
            throw DatasetError.badImage(file: url.path, reason: "\(error)")
        }
    }
}
