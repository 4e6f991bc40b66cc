from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "oms.common"
    label = "common"
    verbose_name = "API access"
