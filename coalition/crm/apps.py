from django.apps import AppConfig


class CoalitionConfig(AppConfig):
    """The member CRM: organizations, contacts, coalitions and memberships. Its label stays
    "coalition", which its tables, migrations and permissions were made under."""

    name = "coalition.crm"
    label = "coalition"
    verbose_name = "Coalition"
