"""The network side of coprove: node daemon, peer mesh, client, identities, the CLI."""

# The one place the version is written: pyproject.toml reads it from here (setuptools'
# dynamic attr), the CLI's --version, the node's start-up line and its status report it.
__version__ = "0.1.0"
