/// Reverie's version (`reverie --version`): the release the sources belong to; `-dev` between releases.
public let reverieVersion = "0.8.0-dev"
