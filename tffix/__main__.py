"""`tffix` and `python -m tffix`: the command line (`tffix.cli`).

`tffix --version` is answered here, before the CLI framework (typer, rich, and pydantic under typer) is
imported: it is what scripts and editors call to find out whether tffix is there, and it should cost no more
than starting Python."""

import sys

from . import __version__


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        sys.stdout.write(f"tffix {__version__}\n")
        return
    from .cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
