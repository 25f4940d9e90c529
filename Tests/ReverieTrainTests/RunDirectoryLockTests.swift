import Foundation
import ReverieTestSupport
import XCTest

@testable import ReverieTrain

/// One run per directory, and no temporary files of dead processes left behind.
final class RunDirectoryLockTests: XCTestCase {
    func testASecondRunOnTheSameDirectoryIsRefusedWithThePid() throws {
        let dir = try TinyRecipes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("vae.yaml")
        try TinyRecipes.text("vae", root: dir.path, steps: 2).write(to: url, atomically: true, encoding: .utf8)
        let recipe = try Recipe.load(url)
        try FileManager.default.createDirectory(atPath: recipe.output, withIntermediateDirectories: true)
        var held: RunDirectoryLock? = try RunDirectoryLock(URL(fileURLWithPath: recipe.output))
        let second = try Trainer(recipe: recipe)
        second.quiet = true
        XCTAssertThrowsError(try second.run()) { error in
            XCTAssertEqual(error as? TrainError, .runInUse(recipe.output, pid: getpid()))
            XCTAssertTrue("\(error)".contains("in use by another run (pid \(getpid()))"), "\(error)")
        }
        held = nil  // the first run ends
        XCTAssertNil(held)
        XCTAssertFalse(try second.run().interrupted)
    }

    func testTemporariesOfDeadProcessesAreRemoved() throws {
        let dir = try TinyRecipes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let gone = Process()
        gone.executableURL = URL(fileURLWithPath: "/bin/true")
        try gone.run()
        gone.waitUntilExit()
        let dead = gone.processIdentifier
        try FileManager.default.createDirectory(
            at: dir.appendingPathComponent("samples"), withIntermediateDirectories: true)
        let names = ["last.h5.tmp-\(dead)", "samples/.step-10.png.tmp-\(dead)", "last.h5.tmp-\(getpid())", "keep.txt"]
        for name in names { try Data("x".utf8).write(to: dir.appendingPathComponent(name)) }
        let lock = try RunDirectoryLock(dir)
        withExtendedLifetime(lock) {
            let left = names.filter { FileManager.default.fileExists(atPath: dir.appendingPathComponent($0).path) }
            XCTAssertEqual(left, ["last.h5.tmp-\(getpid())", "keep.txt"])
        }
    }
}
