"""Path converters for the addresses the project makes, matching only what such an address holds.

Imported by the URL modules that use them, which registers them once.
"""

from django.urls import register_converter


class UnicodeSlugConverter:
    """A slug in any script, as organizations' and Wagtail's pages make them: letters, digits,
    hyphens and underscores (Django's slugify with allow_unicode), at most their columns' 255."""

    regex = r"[-\w]{1,255}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(UnicodeSlugConverter, "unicode_slug")
