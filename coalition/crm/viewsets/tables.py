"""The CRM listings' tables, their cells printed by Python rather than by a template each.

Wagtail renders every cell of a listing through a template of its own, and the title's menu of
actions (edit, inspect, delete) through ten more: a page of 50 organizations took nearly 600
template renders, most of the time of a listing or a search at 10,000 organizations. These
columns print the same markup as Wagtail's templates from Python
(tests/coalition/test_listing_tables.py compares them with Wagtail's), for the cells and buttons
the CRM uses; any other button is still rendered by its own template. Each value is escaped
as the templates escape it.
"""

import datetime
import functools
import html
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import models
from django.templatetags.l10n import unlocalize
from django.utils import timezone
from django.utils.formats import localize
from django.utils.safestring import SafeString, mark_safe
from wagtail.admin.ui.tables import Column, Table, TitleColumn
from wagtail.admin.widgets.button import BaseButton, Button, ButtonWithDropdown

__all__ = ["ListingTable", "PlainColumn", "PlainTitleColumn", "YesNoColumn"]


def _escaped(value: object) -> str:
    """What `{{ value }}` prints: Django's escape without its checks for lazy arguments, which
    cost more than the escaping itself at a thousand values a page."""
    if hasattr(value, "__html__"):
        return str(value.__html__())
    return html.escape(str(value))


def _attrs(attrs: Mapping[str, object]) -> str:
    """HTML attributes as `wagtailadmin/shared/attrs.html` prints them (and flatatt)."""
    return "".join(
        f" {name}" if value is True else f' {name}="{_escaped(value)}"'
        for name, value in attrs.items()
        if value is not False and value is not None
    )


def _class_attr(classname: str | None) -> str:
    return f' class="{_escaped(classname)}"' if classname else ""


def _printed(value: object) -> str:
    """A cell's value as a template prints it: dates in the reader's format and time zone."""
    if value is None:
        return ""
    if type(value) is str:
        return html.escape(value)
    if isinstance(value, datetime.datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return _escaped(localize(value))


class PlainColumn(Column):
    """Wagtail's column (`wagtailadmin/tables/cell.html`), its cells printed without a template."""

    def cell_value(self, instance: models.Model, parent_context: Mapping[str, Any]) -> object:
        """The value Column.get_cell_context_data gives the template, without the rest of the
        context it builds for each cell (a few hundred cells a page)."""
        if type(self).get_cell_context_data is not Column.get_cell_context_data:
            return self.get_cell_context_data(instance, parent_context)["value"]
        value = self.get_value(instance)
        if isinstance(value, int) and not isinstance(value, bool):
            value = unlocalize(value)
        return value if str(value).strip() else self.empty_value_display

    def render_cell_html(self, instance: models.Model, parent_context: Mapping[str, Any]) -> str:
        value = self.cell_value(instance, parent_context)
        return f"<td{_class_attr(self.classname)}>{_printed(value)}</td>"


class YesNoColumn(PlainColumn):
    """A yes-or-no field printed as a word a reader takes in at a glance, not "True"."""

    def __init__(self, name: str, **kwargs: Any) -> None:
        super().__init__(name, sort_key=kwargs.pop("sort_key", name), **kwargs)

    def get_value(self, instance: models.Model) -> str:
        return "Yes" if super().get_value(instance) else "No"


@functools.cache
def _icon(name: str, classname: str = "icon") -> str:
    """What `{% icon name=… classname=… %}` prints (`wagtailadmin/shared/icon.html`)."""
    name, classname = _escaped(name), _escaped(classname)
    return (
        f'<svg class="icon icon-{name} {classname}" aria-hidden="true">'
        f'<use href="#icon-{name}"></use></svg>'
    )


def _button_html(button: BaseButton, parent_context: Mapping[str, Any]) -> str:
    """A listing's button as `wagtailadmin/shared/button.html` prints it, or a dropdown of them
    as `button_with_dropdown.html` and `dropdown/dropdown.html` do; any other kind of button
    by its own template."""
    kind = type(button)
    if kind is ButtonWithDropdown and button.template_name == ButtonWithDropdown.template_name:
        label = button.label
        toggle = [
            "w-dropdown__toggle",
            "" if label else "w-dropdown__toggle--icon",
            button.classname,
        ]
        toggle_class = " ".join(name.strip() for name in toggle if name)
        aria_label = button.aria_label
        aria = f' aria-label="{_escaped(aria_label)}"' if aria_label else ""
        items = "".join(
            _button_html(item, parent_context) for item in sorted(button.dropdown_buttons)
        )
        toggle_icon = _icon(button.icon_name or "arrow-down", "w-dropdown__toggle-icon")
        return (
            f'<div data-controller="w-dropdown" class="w-dropdown"{button.base_attrs_string}>'
            f'<button type="button" class="{_escaped(toggle_class)}" '
            f'data-w-dropdown-target="toggle"{aria}>{_escaped(label)}{toggle_icon}</button>'
            f'<div data-w-dropdown-target="content" class="w-dropdown__content" hidden>{items}</div>'
            "</div>"
        )
    if kind is Button and button.template_name == Button.template_name:
        icon = _icon(button.icon_name) if button.icon_name else ""
        content = f"{icon} {_escaped(button.label)}"
        classname = _escaped(button.classname)
        if button.url:
            return (
                f'<a href="{_escaped(button.url)}" class="{classname}"'
                f"{button.base_attrs_string}>{content}</a>"
            )
        return f'<button class="{classname}"{button.base_attrs_string}>{content}</button>'
    return str(button.render_html(parent_context))


class PlainTitleColumn(TitleColumn):
    """Wagtail's title column (`wagtailadmin/tables/title_cell.html`) with its buttons, printed
    without a template: the record's name linked to its page, and the menu of its actions."""

    def render_cell_html(self, instance: models.Model, parent_context: Mapping[str, Any]) -> str:
        context = self.get_cell_context_data(instance, parent_context)
        title = _escaped(context["value"])
        if context["title_id"]:
            title = f'<span id="{_escaped(context["title_id"])}">{title}</span>'
        if context["link_url"]:
            title = f"<a{_attrs(context['link_attrs'])}>{title}</a>"
        elif context["label_id"]:
            title = f'<label for="{_escaped(context["label_id"])}">{title}</label>'
        buttons: Iterable[BaseButton] = context.get("buttons") or ()
        actions = ""
        if buttons:
            shown = "".join(
                f"<li>{_button_html(button, parent_context)}</li>"
                for button in buttons
                if button.show
            )
            actions = f'<ul class="actions">{shown}</ul>'
        classname = f"{_escaped(self.classname)} " if self.classname else ""
        return (
            f'<td class="{classname}title"><div class="title-wrapper">{title}</div>{actions}</td>'
        )


class ListingTable(Table):
    """Wagtail's table (`wagtailadmin/tables/table.html`), its rows printed in one pass rather
    than through a template tag per cell."""

    template_name = "coalition/listing_table.html"

    def get_context_data(self, parent_context: Mapping[str, Any]) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(parent_context)
        context["body"] = self.body(context)
        return context

    def body(self, context: dict[str, Any]) -> SafeString:
        cells = {"table": self, "request": context.get("request")}
        rows = []
        for row in self.rows:
            cells["row"] = row
            printed = "".join(
                column.render_cell_html(row.instance, cells) for column in self.columns.values()
            )
            rows.append(f"<tr{_attrs(row.attrs)}>{printed}</tr>")
        # Each value was escaped where its cell was printed.
        return mark_safe("".join(rows))  # noqa: S308
