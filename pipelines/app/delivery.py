"""The book's delivery profile: the retailer whose numbers mastering and export aim at."""

from __future__ import annotations

from pipelines.audio.profiles import DeliveryProfile, get_profile
from pipelines.store import Project, settings


def delivery_profile(project: Project) -> DeliveryProfile:
    return get_profile(project.get_setting(settings.DELIVERY_PROFILE))


def set_delivery_profile(project: Project, name: str) -> DeliveryProfile:
    """Choose the book's profile by name (acx, findaway, google_play, apple_books)."""
    profile = get_profile(name)  # an unknown name fails here, naming the choices
    project.set_setting(settings.DELIVERY_PROFILE, profile.name)
    return profile


def seed_delivery_profile(project: Project, default: str) -> None:
    """A book nobody chose a profile for takes the studio's default one."""
    if project.get_setting(settings.DELIVERY_PROFILE) is None and default:
        set_delivery_profile(project, default)
