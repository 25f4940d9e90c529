import Foundation

/// `metrics.jsonl`: one JSON object per line (`{"step": 10, "loss": 0.42, …}`), appended as the run goes.
/// On resume, lines past the resumed step are dropped, so the file reads as one unbroken run.
final class MetricsLog {
    let url: URL
    private var handle: FileHandle?

    init(url: URL, resumeAt step: Int?) throws {
        self.url = url
        let fm = FileManager.default
        if let step, fm.fileExists(atPath: url.path) {
            let kept = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").filter { line in
                guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                    let s = obj["step"] as? Int
                else { return false }
                return s <= step
            }
            try (kept.joined(separator: "\n") + (kept.isEmpty ? "" : "\n")).write(
                to: url, atomically: true,
                encoding: .utf8)
        } else {
            fm.createFile(atPath: url.path, contents: nil)
        }
        handle = try FileHandle(forWritingTo: url)
        handle?.seekToEndOfFile()
    }

    func write(_ fields: [String: Any]) {
        guard let data = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]) else { return }
        handle?.write(data + Data("\n".utf8))
    }

    deinit { try? handle?.close() }
}

/// One progress line on stderr: step, losses, it/s and ETA — redrawn in place on a terminal, printed every
/// `every` steps otherwise (CI logs, pipes).
struct ProgressLine {
    let label: String
    let total: Int
    let every: Int
    let start = Date()
    let startStep: Int
    let tty = isatty(2) != 0

    init(label: String, total: Int, every: Int, startStep: Int) {
        (self.label, self.total, self.every, self.startStep) = (label, total, every, startStep)
    }

    func update(step: Int, terms: [(String, Float)]) {
        guard tty || step % every == 0 || step == total else { return }
        let elapsed = Date().timeIntervalSince(start)
        let rate = Double(step - startStep) / max(elapsed, 1e-9)
        let eta = rate > 0 ? Double(total - step) / rate : 0
        let width = 20, done = total > 0 ? width * step / total : width
        let bar = String(repeating: "█", count: done) + String(repeating: "·", count: width - done)
        let losses = terms.map { "\($0.0) \(String(format: "%.4f", $0.1))" }.joined(separator: " ")
        let line =
            "\(label) \(bar) \(step)/\(total) \(losses) | \(String(format: "%.2f", rate)) it/s | ETA "
            + Self.duration(eta)
        FileHandle.standardError.write(Data((tty ? "\r\u{1B}[K" + line : line + "\n").utf8))
    }

    func end() {
        if tty { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    static func duration(_ s: Double) -> String {
        let t = Int(s.rounded())
        return t >= 3600
            ? "\(t / 3600)h\(String(format: "%02d", t / 60 % 60))m"
            : "\(t / 60)m\(String(format: "%02d", t % 60))s"
    }
}

/// Ctrl-C during training: the first SIGINT asks the trainer to checkpoint and stop after the current step; a
/// second one kills the process as usual (the last checkpoint on disk is intact either way: writes are atomic).
enum Interrupt {
    nonisolated(unsafe) static var requested: Int32 = 0

    static func install() {
        requested = 0
        signal(SIGINT) { _ in
            Interrupt.requested = 1
            signal(SIGINT, SIG_DFL)
        }
    }

    static func uninstall() { signal(SIGINT, SIG_DFL) }
}
