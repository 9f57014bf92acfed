"""Every screen by name; ``app.go(name, **params)`` shows one."""

from mobile_app.ui.screens.checklist import ChecklistScreen
from mobile_app.ui.screens.hazards import HazardScreen, HazardsScreen
from mobile_app.ui.screens.home import HomeScreen
from mobile_app.ui.screens.login import LoginScreen
from mobile_app.ui.screens.review import ReviewScreen
from mobile_app.ui.screens.settings import SettingsScreen
from mobile_app.ui.screens.sites import SiteScreen, SitesScreen
from mobile_app.ui.screens.sync import SyncScreen

SCREENS = {
    "login": LoginScreen,
    "home": HomeScreen,
    "sites": SitesScreen,
    "site": SiteScreen,
    "checklist": ChecklistScreen,
    "review": ReviewScreen,
    "hazards": HazardsScreen,
    "hazard": HazardScreen,
    "sync": SyncScreen,
    "settings": SettingsScreen,
}
