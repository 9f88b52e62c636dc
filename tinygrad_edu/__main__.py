"""`python -m tinygrad_edu` runs the same command line as `tinygrad-edu`."""
import sys

from tinygrad_edu.cli import main

sys.exit(main())
