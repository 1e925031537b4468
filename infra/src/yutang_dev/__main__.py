"""Entry point of `python -m yutang_dev` (what the Makefile calls)."""

from yutang_dev.cli import main

raise SystemExit(main())
