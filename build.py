#!/usr/bin/env python3
"""Build the archive: `python build.py [build|check|serve] [options]` (see --help)."""
import sys

from annals.cli import main

if __name__ == "__main__":
    sys.exit(main())
