"""Project exceptions: every error the project raises derives from `MarketplaceError`."""


class MarketplaceError(Exception):
    """Root of every error raised by the marketplace package."""


class CompilerNotFoundError(MarketplaceError):
    """No Solidity compiler of the pinned version could be found."""


class CompilationError(MarketplaceError):
    """The Solidity compiler reported errors."""


class ArtifactNotFoundError(MarketplaceError):
    """A compiled contract artifact is missing; `make build` creates it."""
