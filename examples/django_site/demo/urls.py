from django.urls import path
from shop.views import snapshots

from . import views

urlpatterns = [
    path("", views.index),
    path("async/", views.hello_async),
    path("snapshots/", snapshots),
]
