// swift-tools-version:6.0
import PackageDescription

// No target sets compiler flags (`unsafeFlags` would keep Reverie from being a versioned dependency): the Makefile
// passes them (`-O` for the test build's kernels, `-target-cpu haswell` everywhere on x86_64), and a package that
// depends on Reverie can pass the same (`swift build -c release -Xswiftc -target-cpu -Xswiftc haswell`).
let package = Package(
    name: "Reverie",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "reverie", targets: ["reverie"]),
        .library(name: "ReverieCore", targets: ["ReverieCore"]),
        .library(name: "ReverieNN", targets: ["ReverieNN"]),
        .library(name: "ReverieIO", targets: ["ReverieIO"]),
        .library(name: "ReverieData", targets: ["ReverieData"]),
        .library(name: "ReverieLanguage", targets: ["ReverieLanguage"]),
        .library(name: "ReverieVision", targets: ["ReverieVision"]),
        .library(name: "ReverieProjectors", targets: ["ReverieProjectors"]),
        .library(name: "ReverieDiffusion", targets: ["ReverieDiffusion"]),
        .library(name: "ReverieMultimodal", targets: ["ReverieMultimodal"]),
        .library(name: "ReverieRuntime", targets: ["ReverieRuntime"]),
        .library(name: "ReverieTrain", targets: ["ReverieTrain"]),
        .library(name: "ReverieDistributed", targets: ["ReverieDistributed"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        // `reverie serve`: HTTP/1.1 on SwiftNIO.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        // `swift package generate-documentation` (make docs): DocC for the public API; not linked into anything.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"]), .brew(["openblas"])]),
        .systemLibrary(
            name: "CHDF5", pkgConfig: "hdf5",
            providers: [.apt(["libhdf5-dev"]), .brew(["hdf5"])]),
        .systemLibrary(
            name: "CPNG", pkgConfig: "libpng",
            providers: [.apt(["libpng-dev"]), .brew(["libpng"])]),
        .systemLibrary(
            name: "CJPEG", pkgConfig: "libjpeg",
            providers: [.apt(["libjpeg-dev"]), .brew(["jpeg-turbo"])]),
        // libpng and libjpeg report errors by longjmp, which Swift cannot catch: every call into them is C code here,
        // returning error codes and messages instead.
        .target(name: "CImageCodecs", dependencies: ["CPNG", "CJPEG"]),
        // oneDNN's convolutions (libdnnl-dev): measured faster than Reverie's own GEMM kernels on the UNet's 3×3
        // shapes, which stay as the reference path and the fallback.
        .target(
            name: "COneDNN", linkerSettings: [.linkedLibrary("dnnl"), .linkedLibrary("dl", .when(platforms: [.linux]))]),
        .target(name: "ReverieCore", dependencies: ["CBLAS", "COneDNN"]),
        .target(name: "ReverieNN", dependencies: ["ReverieCore"]),
        .target(
            name: "ReverieIO", dependencies: ["ReverieCore", "CHDF5", "CImageCodecs"]),
        .target(name: "ReverieData", dependencies: ["ReverieCore", "ReverieIO"]),
        .target(
            name: "ReverieLanguage", dependencies: ["ReverieCore", "ReverieNN", "ReverieIO"]),
        .target(
            name: "ReverieVision", dependencies: ["ReverieCore", "ReverieNN", "ReverieIO"]),
        .target(
            name: "ReverieProjectors", dependencies: ["ReverieCore", "ReverieNN", "ReverieIO"]),
        .target(name: "ReverieDiffusion", dependencies: ["ReverieNN", "ReverieIO"]),
        .target(
            name: "ReverieMultimodal",
            dependencies: ["ReverieVision", "ReverieProjectors", "ReverieLanguage", "ReverieDiffusion", "ReverieData"]),
        // Loading and running trained models: what the inference commands (and anything serving a model) link,
        // without the training code.
        .target(name: "ReverieRuntime", dependencies: ["ReverieMultimodal", "ReverieDistributed"]),
        .target(
            name: "ReverieTrain",
            dependencies: ["ReverieRuntime", "ReverieDistributed", .product(name: "Yams", package: "Yams")]),
        // `reverie serve`: the HTTP API and the web page over a loaded model (ReverieRuntime, never training code).
        .target(
            name: "ReverieServe",
            dependencies: ["ReverieRuntime", .product(name: "Hummingbird", package: "hummingbird")],
            resources: [.copy("Page")]),
        // Multi-process jobs: Open MPI loaded at run time, so a binary built anywhere still runs as one process.
        .target(name: "ReverieDistributed"),
        .target(
            name: "ReverieTestSupport", dependencies: ["ReverieCore", "ReverieData", "ReverieDistributed"]),
        .executableTarget(
            name: "reverie",
            dependencies: [
                "ReverieCore", "ReverieNN", "ReverieIO",
                "ReverieData",
                "ReverieLanguage", "ReverieVision", "ReverieProjectors",
                "ReverieDiffusion", "ReverieMultimodal", "ReverieRuntime", "ReverieTrain", "ReverieDistributed",
                "ReverieServe", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        // In-process fuzz targets: replays saved inputs; built with libFuzzer by `make libfuzz`.
        .executableTarget(
            name: "reverie-fuzz",
            dependencies: ["ReverieIO", "ReverieData", "ReverieLanguage", "ReverieVision", "ReverieTrain"]),
        .testTarget(name: "ReverieCoreTests", dependencies: ["ReverieCore", "ReverieTestSupport"]),
        .testTarget(name: "ReverieNNTests", dependencies: ["ReverieNN", "ReverieTestSupport"]),
        .testTarget(name: "ReverieDataTests", dependencies: ["ReverieData", "ReverieTestSupport"]),
        .testTarget(name: "ReverieIOTests", dependencies: ["ReverieIO", "ReverieNN", "ReverieTestSupport"]),
        .testTarget(
            name: "ReverieLanguageTests",
            dependencies: ["ReverieLanguage", "ReverieIO", "ReverieNN", "ReverieCore", "ReverieTestSupport"]),
        .testTarget(
            name: "ReverieVisionTests",
            dependencies: ["ReverieVision", "ReverieIO", "ReverieNN", "ReverieCore", "ReverieTestSupport"]),
        .testTarget(
            name: "ReverieProjectorsTests",
            dependencies: ["ReverieProjectors", "ReverieIO", "ReverieNN", "ReverieCore", "ReverieTestSupport"]),
        .testTarget(
            name: "ReverieDiffusionTests", dependencies: ["ReverieDiffusion", "ReverieIO", "ReverieTestSupport"],
            exclude: ["Fixtures"]),
        .testTarget(
            name: "ReverieMultimodalTests",
            dependencies: [
                "ReverieMultimodal", "ReverieData", "ReverieDiffusion", "ReverieProjectors", "ReverieNN",
                "ReverieCore", "ReverieTestSupport",
            ]),
        .testTarget(
            name: "ReverieRuntimeTests",
            dependencies: ["ReverieRuntime", "ReverieData", "ReverieCore", "ReverieTestSupport"]),
        .testTarget(
            name: "ReverieServeTests", dependencies: ["ReverieServe", "ReverieRuntime", "ReverieIO", "ReverieData"]),
        .testTarget(
            name: "ReverieTrainTests",
            dependencies: [
                "ReverieTrain", "ReverieRuntime", "ReverieMultimodal", "ReverieDiffusion", "ReverieData", "ReverieNN",
                "ReverieIO", "ReverieCore", "ReverieTestSupport",
            ]),
        // End-to-end through the built binary (docs/DESIGN.md §8). Depending on `reverie` makes SwiftPM build the executable
        // before the tests, which run it from the products directory with `Process`.
        .testTarget(
            name: "ReverieCLITests",
            dependencies: ["reverie", "reverie-fuzz", "ReverieIO", "ReverieCore", "ReverieTestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
