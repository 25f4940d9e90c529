import Foundation

/// Where a result may be written. Every writer writes a temporary file beside the output and renames it into place;
/// renamed over a device, a FIFO or a directory, that would replace the device with a file (run as root,
/// `--out /dev/full` turned the device into a PNG) or fail late. So an output must be a new path or a regular
/// file (a symlink counts as what it points to).
public enum OutputDestination {
    /// Why `url` cannot be written to, or nil when it can.
    public static func problem(_ url: URL) -> String? {
        var info = stat()
        guard stat(url.path, &info) == 0 else { return nil }  // nothing there (or a dangling link): a new file
        switch info.st_mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFDIR: return "is a directory"
        case S_IFCHR, S_IFBLK: return "is a device, not a regular file"
        case S_IFIFO: return "is a FIFO, not a regular file"
        case S_IFSOCK: return "is a socket, not a regular file"
        default: return "is not a regular file"
        }
    }
}
