"""Android entry point (buildozer/python-for-android run ``main.py``): the tablet app."""

from mobile_app.__main__ import main

if __name__ == "__main__":
    raise SystemExit(main([]))
