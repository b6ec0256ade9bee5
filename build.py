#!/usr/bin/env python3
"""Build the archive: `python build.py [build|check|serve] [options]` (see --help)."""
from annals.cli import run

if __name__ == "__main__":
    run()
