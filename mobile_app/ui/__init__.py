"""The Kivy side of the tablet app: screens, theme, widgets, worker lanes."""
