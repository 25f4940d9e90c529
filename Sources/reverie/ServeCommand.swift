import ArgumentParser
import Foundation
import ReverieCore
import ReverieServe

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract:
            "Serve a model over HTTP: a JSON + PNG API and a web page for captions, drawings and editing sessions.")
    @OptionGroup var model: ModelOptions
    @Option(help: "Address to bind (anything but loopback needs --token).") var host = ServeOptions().host
    @Option(help: "TCP port (0: any free port).") var port = ServeOptions().port
    @Option(help: "Bearer token API requests must carry (default: $REVERIE_SERVE_TOKEN).") var token: String?
    @Option(help: "Model requests that run at once, each on its own core (one per core by default).") var workers =
        ServeOptions().workers
    @Option(help: "Model requests that may wait; more get 503 with Retry-After.") var queue = ServeOptions().queue
    @Option(help: "Largest request body, in bytes.") var maxBodyBytes = ServeOptions().maxBodyBytes
    @Option(help: "Largest uploaded image, in pixels (checked before decoding).")
    var maxImagePixels = ServeOptions().maxImagePixels
    @Option(help: "Seconds a model request may take, waiting included (then 503 if waiting, 504 if running).")
    var requestSeconds = ServeOptions().requestSeconds
    @Option(help: "Seconds an idle editing session is kept.") var sessionSeconds = ServeOptions().sessionSeconds
    @Option(help: "Editing sessions kept at once (the least recently used goes).")
    var maxSessions = ServeOptions().maxSessions
    @Option(help: "Most denoising steps a request may ask for.") var maxSteps = ServeOptions().maxSteps
    @Option(help: "A folder of training runs to show at /runs (their metrics as curves, their sample sheets).")
    var runs: String?
    @Flag(help: "Load no model: serve only the runs of --runs.") var noModel = false

    var options: ServeOptions {
        var o = ServeOptions()
        (o.host, o.port, o.workers, o.queue) = (host, port, workers, queue)
        o.token = token ?? ProcessInfo.processInfo.environment["REVERIE_SERVE_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        (o.maxBodyBytes, o.maxImagePixels, o.requestSeconds) = (maxBodyBytes, maxImagePixels, requestSeconds)
        (o.sessionSeconds, o.maxSessions, o.maxSteps) = (sessionSeconds, maxSessions, maxSteps)
        return o
    }

    func validate() throws {
        if noModel, runs == nil { throw ValidationError("--no-model serves only --runs: give --runs DIR") }
        do {
            try options.validate()
        } catch let error as ConfigurationError {
            throw ValidationError("\(error)")
        }
    }

    func run() throws {
        let (url, options, host) = (noModel ? nil : model.url, self.options, self.host)
        let runs = self.runs.map { URL(fileURLWithPath: $0, isDirectory: true) }
        let done = DispatchSemaphore(value: 0)
        let outcome = Outcome()
        Task {
            do {
                try await ReverieServer.run(checkpoint: url, runs: runs, options: options) { port in
                    let shown = host.contains(":") ? "[\(host)]" : host
                    let what = [url?.lastPathComponent, runs.map { "the runs under \($0.path)" }].compactMap { $0 }
                    print("serving \(what.joined(separator: " and ")) at http://\(shown):\(port)/")
                }
            } catch {
                outcome.error = error
            }
            done.signal()
        }
        done.wait()
        if let error = outcome.error { throw error }
    }

    final class Outcome: @unchecked Sendable {
        var error: Error?
    }
}
