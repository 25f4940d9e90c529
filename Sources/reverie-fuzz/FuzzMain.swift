import Foundation

/// `reverie-fuzz TARGET [FILE…]` runs one target (`FuzzTargets.all`) over each file, as a replay of saved inputs
/// (the default build); `reverie-fuzz seeds DIR` writes the seed inputs no fixture provides. Built for fuzzing
/// (`make libfuzz`: coverage, AddressSanitizer, `-DREVERIE_LIBFUZZER`), `reverie-fuzz TARGET [libFuzzer flags]
/// [CORPUS…]` hands the target to libFuzzer's driver instead.
@main
enum FuzzMain {
    static func main() {
        var arguments = CommandLine.arguments
        if arguments.count == 3, arguments[1] == "seeds" {
            do {
                try FuzzSeeds.write(to: URL(fileURLWithPath: arguments[2]))
            } catch {
                FileHandle.standardError.write(Data("reverie-fuzz: \(error)\n".utf8))
                exit(1)
            }
            return
        }
        guard arguments.count >= 2, let target = FuzzTargets.all[arguments[1]] else {
            let names = FuzzTargets.all.keys.sorted().joined(separator: ", ")
            FileHandle.standardError.write(Data("usage: reverie-fuzz TARGET [FILE…]; targets: \(names)\n".utf8))
            exit(2)
        }
        arguments.remove(at: 1)
        #if REVERIE_LIBFUZZER
            selected = target
            exit(LibFuzzer.run(arguments))
        #else
            for path in arguments.dropFirst() {
                guard let data = FileManager.default.contents(atPath: path) else {
                    FileHandle.standardError.write(Data("reverie-fuzz: cannot read \(path)\n".utf8))
                    exit(1)
                }
                target([UInt8](data))
            }
            print("replayed \(arguments.count - 1) input(s)")
        #endif
    }
}

#if REVERIE_LIBFUZZER
    /// The target libFuzzer's callback runs (set once, before the driver starts).
    nonisolated(unsafe) var selected: FuzzTargets.Target = { _ in }

    @_silgen_name("LLVMFuzzerRunDriver")
    func runFuzzerDriver(
        _ argc: UnsafeMutablePointer<CInt>,
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
        _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
    ) -> CInt

    enum LibFuzzer {
        static func run(_ arguments: [String]) -> CInt {
            var argc = CInt(arguments.count)
            var pointers: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
            return pointers.withUnsafeMutableBufferPointer { buffer in
                var argv = buffer.baseAddress
                return runFuzzerDriver(&argc, &argv) { data, count in
                    selected(data.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? [])
                    return 0
                }
            }
        }
    }
#endif
