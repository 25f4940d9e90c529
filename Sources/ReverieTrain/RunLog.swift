import Foundation
import ReverieIO

/// The run's logs, written by rank 0: `metrics.jsonl`, one JSON object per line (`{"step": 10, "loss": 0.42, …}`),
/// appended as the run goes, and a TensorBoard event file beside it with the same scalars (`loss`, `loss/<term>`,
/// `lr`, `grad_norm`, `steps_per_second`, `eval/<score>`) and the sample sheets as images. On resume, metrics lines
/// past the resumed step are dropped, so the file reads as one unbroken run, and the new event file starts with a
/// session start that tells TensorBoard to drop what the earlier files logged after it.
final class MetricsLog {
    let url: URL
    private var handle: FileHandle?
    let board: TensorBoardEventWriter

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
            _ = fm.createFile(atPath: url.path, contents: nil)
        }
        handle = try FileHandle(forWritingTo: url)
        handle?.seekToEndOfFile()
        board = try TensorBoardEventWriter(directory: url.deletingLastPathComponent())
        if let step { try board.sessionStart(step: step + 1) }
    }

    /// One logged step.
    func step(
        _ step: Int, loss: Float, terms: [(String, Float)], lr: Double, gradientNorm: Float, stepsPerSecond: Double,
        elapsed: Double
    ) throws {
        var line: [String: Any] = [
            "step": step, "loss": Double(loss), "lr": lr, "grad_norm": Double(gradientNorm),
            "steps_per_second": stepsPerSecond, "elapsed": elapsed,
        ]
        for (k, v) in terms { line[k] = Double(v) }
        write(line)
        let scalars =
            [("loss", loss)] + terms.map { ("loss/\($0.0)", $0.1) }
            + [("lr", Float(lr)), ("grad_norm", gradientNorm), ("steps_per_second", Float(stepsPerSecond))]
        for (tag, value) in scalars { try board.scalar(tag, value, step: step) }
    }

    /// A stage evaluation's scores, and its sample sheet when it drew one.
    func evaluation(_ step: Int, scores: [(String, Double)], sheet: URL?) throws {
        write(["step": step, "eval": Dictionary(scores, uniquingKeysWith: { a, _ in a })])
        for (name, value) in scores { try board.scalar("eval/\(name)", Float(value), step: step) }
        if let sheet, let png = try? [UInt8](Data(contentsOf: sheet)), let (width, height) = PNGSize.of(png) {
            try board.image("samples", png: png, width: width, height: height, step: step)
        }
    }

    func write(_ fields: [String: Any]) {
        guard let data = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]) else { return }
        handle?.write(data + Data("\n".utf8))
    }

    deinit { try? handle?.close() }
}

/// The width and height in a PNG's header (IHDR), or nil for bytes that are not a PNG.
enum PNGSize {
    static func of(_ png: [UInt8]) -> (Int, Int)? {
        guard png.count >= 24, png[0..<8] == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] else { return nil }
        func word(_ at: Int) -> Int { png[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
        return (word(16), word(20))
    }
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
