import Foundation
import ReverieData
import ReverieIO
import ReverieMultimodal
import ReverieRuntime

/// The model `reverie serve` loaded once, and what a request does with it: images in and out (PNG or JPEG bytes,
/// checked for size before decoding, fitted to the model's square), captions, drawings and edits. Model calls run on
/// the worker pool; the model is only read, so workers share it.
final class ServedModel: @unchecked Sendable {
    let runner: ModelRunner
    let checkpoint: URL
    let maxImagePixels: Int

    init(checkpoint: URL, maxImagePixels: Int) throws {
        runner = try ModelRunner.load(checkpoint)
        self.checkpoint = checkpoint
        self.maxImagePixels = maxImagePixels
    }

    var imageSize: Int { runner.imageSize }
    var drawing: DrawingOptions { runner.drawing }

    /// An uploaded image: decoded (its declared size checked first), turned upright, its central square resized to
    /// the model's side.
    func image(fromUpload bytes: [UInt8]) throws -> PlanarImage {
        do {
            let decoded = try Image(encoded: bytes, path: "the uploaded image", maxPixels: maxImagePixels)
            let upright = decoded.applying(ImageOrientation.of(jpeg: Array(bytes.prefix(256 * 1024))))
            let square = upright.rgb().centerSquare()
            let fitted = square.width == imageSize ? square : try square.resized(width: imageSize, height: imageSize)
            return try PlanarImage(tensor: fitted.tensor())
        } catch let error as ImageError {
            if case .tooManyPixels = error { throw ServeError(.contentTooLarge, "\(error)") }
            throw ServeError.badRequest("\(error)")
        }
    }

    func png(_ image: PlanarImage) throws -> [UInt8] {
        try Image(tensor: image.tensor()).encodePNG()
    }

    func caption(_ image: PlanarImage) throws -> String {
        try Self.refusing { try runner.caption(image) }
    }

    func generate(_ prompt: String, drawing: DrawingOptions) throws -> PlanarImage {
        var r = runner
        r.drawing = drawing
        return try Self.refusing { try r.generate(prompt) }
    }

    func edit(_ image: PlanarImage, _ instruction: String, drawing: DrawingOptions) throws -> (PlanarImage, String?) {
        var r = runner
        r.drawing = drawing
        return try Self.refusing {
            let (out, said) = try r.describedEdit(image, instruction)
            return (out, said)
        }
    }

    /// Text and the images the model draws where it writes one, in order.
    func interleaved(_ prompt: String, maxImages: Int, drawing: DrawingOptions) throws
        -> [(text: String?, image: PlanarImage?)]
    {
        var r = runner
        r.drawing = drawing
        return try Self.refusing { try r.interleaved(prompt, maxImages: maxImages) }
    }

    /// The model's refusals (an empty prompt, text it cannot read) as 400s naming the problem.
    static func refusing<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as MultimodalError {
            throw ServeError.badRequest("\(error)")
        }
    }
}
