"""Tools for developing and testing the tablet app: the screenshot tour, the widget driver the
tests and the tour use, demo photos. Not shipped: the app package (and so the APK) must not
import ``server``, which the tour's demo server needs."""
