#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
    from django.core.management import execute_from_command_line

    from webapp.env import ImproperSetting

    try:
        execute_from_command_line(sys.argv)
    except ImproperSetting as error:  # a bad setting is one line naming it, not a traceback
        sys.exit(f"skerry: {error}")
