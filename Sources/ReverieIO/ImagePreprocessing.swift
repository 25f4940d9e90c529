import Foundation
import ReverieCore

/// The usual vision-encoder input pipeline as one value: decode, convert to RGB, resize, crop, scale to [0, 1],
/// normalise. CLIP's is `ImagePreprocessing(size: 224, fit: .shorterSideThenCenterCrop, filter: .bicubic,
/// mean: [0.4815, 0.4578, 0.4082], std: [0.2686, 0.2613, 0.2758])`.
public struct ImagePreprocessing: Sendable, Equatable {
    /// How an image is brought to `size × size`.
    public enum Fit: String, Sendable {
        /// Resize straight to `size × size` (aspect ratio not kept; what SigLIP does).
        case stretch
        /// Resize the shorter side to `size`, then take the central square (what CLIP does).
        case shorterSideThenCenterCrop
    }

    public var size: Int
    public var fit: Fit
    public var filter: ResampleFilter
    /// Per-channel mean and std for normalisation, or nil to keep values in [0, 1].
    public var mean: [Float]?
    public var std: [Float]?

    public init(
        size: Int, fit: Fit = .stretch, filter: ResampleFilter = .bicubic, mean: [Float]? = nil,
        std: [Float]? = nil
    ) {
        self.size = size
        self.fit = fit
        self.filter = filter
        self.mean = mean
        self.std = std
    }

    /// The RGB image brought to `size × size` (no tensor conversion).
    public func resize(_ image: Image) throws -> Image {
        let rgb = image.converted(to: .rgb)
        switch fit {
        case .stretch:
            return try rgb.resized(width: size, height: size, filter: filter)
        case .shorterSideThenCenterCrop:
            return try rgb.resized(shorterSide: size, filter: filter).centerCropped(width: size, height: size)
        }
    }

    /// `image` as a `[3, size, size]` tensor, normalised when mean and std are set.
    public func callAsFunction(_ image: Image) throws -> Tensor {
        let tensor = try resize(image).tensor()
        if let mean, let std { try normalize(tensor, mean: mean, std: std) }
        return tensor
    }

    /// Reads and preprocesses the image file at `url`, turned upright by its EXIF orientation; errors name the
    /// file.
    public func load(_ url: URL) throws -> Tensor {
        try self(Image(uprightContentsOf: url))
    }
}
