/// Why an image could not be read, written or transformed. Every message about a file names the file.
public enum ImageError: Error, CustomStringConvertible, Equatable {
    case fileNotFound(path: String)
    /// The path exists but is a directory or another non-regular file.
    case notAFile(path: String)
    case emptyFile(path: String)
    /// The bytes are neither PNG nor JPEG (decoding goes by magic bytes, not by extension). `lookalike` names what
    /// the file seems to be instead, when known.
    case unsupportedFormat(path: String, lookalike: String?)
    /// The file starts like a PNG or JPEG but the codec could not decode it: truncated or damaged.
    case corruptFile(path: String, format: String, detail: String)
    /// The codec could not encode the image (for example a disk write failed inside the codec).
    case encodingFailed(path: String, detail: String)
    /// The header declares more pixels than `ImageLimits.maxPixels` (a decompression bomb, or a photo larger than
    /// the limit allows): refused before decoding.
    case tooManyPixels(path: String, width: Int, height: Int, limit: Int)
    /// A file-system call failed (permissions, rename, a full disk).
    case io(path: String, operation: String, detail: String)
    /// An argument that does not fit the image: a crop larger than the image, a zero output size, mismatched
    /// channel counts, a tensor of the wrong shape.
    case invalidArgument(operation: String, detail: String)

    public var description: String {
        switch self {
        case .fileNotFound(let path):
            return "image not found: \(path)"
        case .notAFile(let path):
            return "not a regular file: \(path)"
        case .emptyFile(let path):
            return "image file is empty (0 bytes): \(path)"
        case .unsupportedFormat(let path, let lookalike):
            let seems = lookalike.map { " (it looks like \($0))" } ?? ""
            return "not a PNG or JPEG image: \(path)\(seems)"
        case .corruptFile(let path, let format, let detail):
            return "cannot decode \(format) image \(path): \(detail)"
        case .encodingFailed(let path, let detail):
            return "cannot encode image \(path): \(detail)"
        case .tooManyPixels(let path, let width, let height, let limit):
            return "image \(path) declares \(width)×\(height) = \(width * height) pixels, over the limit of \(limit) "
                + "(set REVERIE_MAX_IMAGE_PIXELS to allow more)"
        case .io(let path, let operation, let detail):
            return "\(operation) failed for \(path): \(detail)"
        case .invalidArgument(let operation, let detail):
            return "\(operation): \(detail)"
        }
    }
}
