import ReverieCore

/// Turns an ``ImageRef`` into a `[3, H, W]` tensor in [0, 1]. File decoding (PNG, JPEG) plugs in here from
/// `ReverieIO`; ShapesWorld scenes are rendered by ``SceneImageLoader``.
public protocol ImageLoader: Sendable {
    /// Loads `ref`; throws ``DatasetError/badImage(file:reason:)`` naming the file when it cannot.
    func load(_ ref: ImageRef) throws -> Tensor
}

/// Renders ``ImageRef/scene(_:)`` references and hands ``ImageRef/file(_:)`` references to `files`, if given.
public struct SceneImageLoader: ImageLoader {
    public let rasterizer: Rasterizer
    /// The loader for image files, or nil to reject them.
    public let files: (any ImageLoader)?

    public init(rasterizer: Rasterizer = Rasterizer(), files: (any ImageLoader)? = nil) {
        self.rasterizer = rasterizer
        self.files = files
    }

    public func load(_ ref: ImageRef) throws -> Tensor {
        switch ref {
        case .scene(let scene):
            return rasterizer.render(scene).tensor()
        case .file(let url):
            guard let files else {
                throw DatasetError.badImage(file: url.path, reason: "no image-file loader is configured")
            }
            return try files.load(ref)
        }
    }
}
