#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tutor.settings")
    # manage.py runs from a checkout, beside `make run`: the same embedded mode (DEBUG on, a
    # secret key kept under var/) unless the environment says otherwise. The production image
    # sets DEBUG=0, so there a SECRET_KEY must be given.
    os.environ.setdefault("DEBUG", "1")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
