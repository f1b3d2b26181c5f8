"""Command-line interface: ``vid2vid <command> ...`` (see ``vid2vid --help``)."""
